/** The bench's table: one row per case and system, with median, min, max and the ratio to the best peer. */
import type { CaseResult } from "./timing.js";
import { type CaseSpec, caseById } from "./workloads.js";

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export interface Row {
  case: string;
  label: string;
  system: string;
  unit: string;
  /** In the case's unit (GFLOP/s from the times; MiB from bytes). */
  median?: number;
  min?: number;
  max?: number;
  /** Non-peer systems: this system's median time ÷ the fastest peer's (below 1: faster than every peer). */
  ratio?: number;
  ratioTo?: string;
  status: CaseResult["status"];
  note?: string;
}

const inUnit = (spec: CaseSpec, ms: number) => (spec.unit === "GFLOP/s" ? spec.flops! / (ms * 1e6) : ms);

export const rows = (results: CaseResult[], peers: ReadonlySet<string>): Row[] => {
  const out: Row[] = [];
  for (const r of results) {
    const spec = caseById(r.case);
    const row: Row = { case: r.case, label: spec.label, system: r.system, unit: spec.unit, status: r.status, note: r.note };
    if (r.status === "ok" && r.value !== undefined) {
      row.median = r.value / 2 ** 20;
      // A value case is compared with the first case of its workload on the same system (W6: × plain).
      const first = results.find((o) => o.system === r.system && caseById(o.case).workload === spec.workload && o.value !== undefined);
      if (first && first !== r) {
        row.ratio = r.value / first.value!;
        row.ratioTo = first.case;
      }
    } else if (r.status === "ok" && r.samples.length) {
      const [a, b, c] = [median(r.samples), Math.min(...r.samples), Math.max(...r.samples)];
      // For a rate, the slowest run gives the minimum.
      [row.median, row.min, row.max] = spec.unit === "GFLOP/s" ? [inUnit(spec, a), inUnit(spec, c), inUnit(spec, b)] : [a, b, c];
      if (!peers.has(r.system)) {
        const best = results
          .filter((o) => o.case === r.case && peers.has(o.system) && o.status === "ok" && o.samples.length)
          .map((o) => ({ system: o.system, ms: median(o.samples) }))
          .sort((x, y) => x.ms - y.ms)[0];
        if (best) {
          row.ratio = a / best.ms;
          row.ratioTo = best.system;
        }
      }
    }
    out.push(row);
  }
  return out;
};

const fmt = (v: number | undefined) => (v === undefined ? "" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2));

/** A markdown table (readable in a terminal too). */
export const formatTable = (rs: Row[]): string => {
  const lines = ["| case | system | median | min | max | ratio | note |", "|---|---|--:|--:|--:|--:|---|"];
  let last = "";
  for (const r of rs) {
    const label = r.case === last ? "" : `${r.case} ${r.label} (${r.unit})`;
    last = r.case;
    const ratio = r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}× ${r.ratioTo}`;
    const note = r.status === "ok" ? "" : `${r.status === "unsupported" ? "cannot" : r.status === "wrong" ? "WRONG RESULT" : "failed"}: ${(r.note ?? "").replace(/\|/g, "\\|")}`;
    lines.push(`| ${label} | ${r.system} | ${fmt(r.median)} | ${fmt(r.min)} | ${fmt(r.max)} | ${ratio} | ${note} |`);
  }
  return lines.join("\n");
};
