/**
 * `pnpm bench [--quick] [--only W1,W3|W8.add] [--systems cotangent,tfjs-wasm] [--rounds N] [--json FILE]`
 *
 * Runs each workload in Cotangent and in each peer, one at a time, each workload of each
 * system in its own child process, on the same seeded data; prints a markdown table with median, min and max,
 * and Cotangent's time as a multiple of the fastest peer's. Exits non-zero when a Cotangent
 * result fails its check or a Cotangent case fails to run.
 *
 * `--rounds N` runs every workload's systems N times over, alternating (each round starts
 * with the next system), and pools each case's samples across its N processes: on a shared
 * machine whose speed drifts over seconds (this VM kind: a peer's figure moved 1.8x between
 * runs minutes apart), a slow spell then lands on one process of each system instead of
 * deciding a ratio.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ChildReport } from "./child.js";
import type { CaseResult } from "./timing.js";
import { DEFAULT_SYSTEMS, SYSTEMS } from "./systems/index.js";
import { formatTable, rows } from "./table.js";
import { CASES, caseById } from "./workloads.js";

/** Systems whose rows Cotangent's are compared with. */
export const PEERS = new Set(["tfjs-wasm", "tfjs-cpu", "jax-js", "jax-js-jit"]);

export interface BenchOptions {
  quick: boolean;
  only?: string[];
  systems?: string[];
  json?: string;
  /** Processes per workload and system, alternating (default 1). */
  rounds?: number;
}

export const parseArgs = (argv: string[]): BenchOptions => {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) throw new Error(`${name} needs a value`);
    return v;
  };
  const known = new Set(["--quick", "--only", "--systems", "--json", "--rounds"]);
  for (const a of argv) if (a.startsWith("--") && !known.has(a)) throw new Error(`unknown option ${a} (known: ${[...known].join(", ")})`);
  const list = (v: string | undefined) => v?.split(",").map((s) => s.trim()).filter(Boolean);
  const o: BenchOptions = { quick: argv.includes("--quick"), only: list(value("--only")), systems: list(value("--systems")), json: value("--json") };
  const rounds = value("--rounds");
  if (rounds !== undefined) {
    const n = Number(rounds);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--rounds takes a positive integer, not ${rounds}`);
    o.rounds = n;
  }
  return o;
};

const STATUS_RANK: Record<CaseResult["status"], number> = { ok: 0, unsupported: 1, failed: 2, wrong: 3 };

/** Pools a later round's result of a case into the first one's: samples joined, the worst status kept. */
export const poolResult = (into: CaseResult, r: CaseResult): void => {
  into.samples.push(...r.samples);
  if (STATUS_RANK[r.status] > STATUS_RANK[into.status]) {
    into.status = r.status;
    into.note = r.note;
  }
};

/** The case ids that `--only` selects: whole workloads (W1) or single cases (W8.add). */
export const selectCases = (only?: string[]): string[] => {
  if (!only) return CASES.map((c) => c.id);
  for (const o of only) if (!CASES.some((c) => c.workload === o || c.id === o)) throw new Error(`--only: no workload or case ${o} (workloads W1..W8; cases ${CASES.map((c) => c.id).join(", ")})`);
  return CASES.filter((c) => only.includes(c.workload) || only.includes(c.id)).map((c) => c.id);
};

const CHILD = fileURLToPath(new URL("./child.ts", import.meta.url));
/** The description of a system whose child process failed (a later workload's process may supply the real one). */
const FAILED = "(the process failed)";

export const bench = (o: BenchOptions): { table: string; reports: ChildReport[]; ok: boolean } => {
  const ids = selectCases(o.only);
  const systems = o.systems ?? DEFAULT_SYSTEMS;
  for (const s of systems) if (!SYSTEMS[s]) throw new Error(`--systems: no system ${s} (known: ${Object.keys(SYSTEMS).join(", ")})`);
  const dir = mkdtempSync(join(tmpdir(), "cotangent-bench-"));
  const bySystem = new Map<string, ChildReport>();
  // One process per workload and system: a workload's figures do not depend on what ran
  // before it in the same heap (the garbage of an earlier workload, a grown C heap).
  const workloads = [...new Set(ids.map((id) => caseById(id).workload))];
  // Round r starts with system r, so no system always runs first or last.
  const rounds = o.rounds ?? 1;
  const order = (round: number) => [...systems.slice(round % systems.length), ...systems.slice(0, round % systems.length)];
  const runChild = (workload: string, wIds: string[], system: string, round: number): ChildReport => {
    const out = join(dir, `${system}-${workload}-${round}.json`);
    process.stderr.write(`${system} ${workload}${rounds > 1 ? ` (round ${round + 1} of ${rounds})` : ""}:\n`);
    // The child inherits this process's loader flags (tsx, the source condition).
    const r = spawnSync(process.execPath, [...process.execArgv, CHILD, "--system", system, "--cases", wIds.join(","), "--out", out, ...(o.quick ? ["--quick"] : [])], { stdio: ["ignore", "inherit", "inherit"] });
    return r.status === 0
      ? (JSON.parse(readFileSync(out, "utf8")) as ChildReport)
      : { system, description: FAILED, results: wIds.map((id) => ({ case: id, system, status: "failed", samples: [], note: `child process exited with ${r.status ?? r.signal}` })) };
  };
  try {
    for (const workload of workloads) {
      const wIds = ids.filter((id) => caseById(id).workload === workload);
      for (let round = 0; round < rounds; round++) {
        for (const system of order(round)) {
          const report = runChild(workload, wIds, system, round);
          const seen = bySystem.get(system);
          if (!seen) {
            bySystem.set(system, report);
            continue;
          }
          for (const r of report.results) {
            const first = seen.results.find((x) => x.case === r.case);
            if (first) poolResult(first, r);
            else seen.results.push(r);
          }
          if (seen.description === FAILED) seen.description = report.description;
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const reports = systems.flatMap((s) => bySystem.get(s) ?? []);
  const all = ids.flatMap((id) => reports.flatMap((r) => r.results.filter((x) => x.case === id)));
  const table = formatTable(rows(all, PEERS));
  const ok = all.every((r) => PEERS.has(r.system) || r.status === "ok" || r.status === "unsupported");
  return { table, reports, ok };
};

const header = (o: BenchOptions, reports: ChildReport[]) => {
  const cmd = `pnpm bench${process.argv.slice(2).length ? " " + process.argv.slice(2).join(" ") : ""}`;
  return [
    `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC · ${cpus()[0]?.model ?? "unknown CPU"} × ${cpus().length} · Node ${process.version} · \`${cmd}\`${o.quick ? " (quick: few samples)" : ""}${(o.rounds ?? 1) > 1 ? ` (${o.rounds} rounds: each figure pools ${o.rounds} processes per system)` : ""}`,
    "",
    ...reports.map((r) => `- **${r.system}**: ${r.description}`),
    "",
    "ratio: the median time of this row ÷ the fastest peer's median time on the same case (below 1: faster than every peer); for W6, peak bytes ÷ the plain variant's.",
  ].join("\n");
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const o = parseArgs(process.argv.slice(2));
  const { table, reports, ok } = bench(o);
  console.log(`\n${header(o, reports)}\n\n${table}`);
  if (o.json) {
    writeFileSync(o.json, JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, options: o, reports }, null, 2));
    console.log(`\nraw figures: ${o.json}`);
  }
  if (!ok) {
    console.error("a Cotangent case failed or gave a wrong result (see the table)");
    process.exit(1);
  }
}
