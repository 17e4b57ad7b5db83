/**
 * Cotangent in a real browser: core is bundled with esbuild, served from 127.0.0.1, and run
 * in Debian's headless `chromium` driven by puppeteer-core. One page is a plain page; the
 * other is served with cross-origin-isolation headers (COOP/COEP), where SharedArrayBuffer
 * is available to a worker pool.
 *
 *   pnpm test:browser          # CHROMIUM=/path/to/chrome to use another browser binary
 *
 * Not part of `pnpm test` (vitest.config.ts's projects): it needs chromium installed.
 */
import { existsSync } from "node:fs";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import puppeteer, { type Browser } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PageResults, inputs } from "./page.js";

const here = dirname(fileURLToPath(import.meta.url));
const executablePath = process.env.CHROMIUM ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find(existsSync);

let server: Server;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  if (!executablePath) throw new Error("no chromium found: install it (apt-get install -y chromium) or set CHROMIUM=/path/to/chrome");
  const bundle = await build({
    entryPoints: [join(here, "page.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["@cotangent/source"],
    write: false,
    logLevel: "error",
  });
  const js = bundle.outputFiles[0]!.text;
  const html = `<!doctype html><meta charset="utf-8"><title>cotangent</title><script type="module" src="page.js"></script>`;
  server = createServer((req, res) => {
    const isolated = req.url?.startsWith("/isolated/") ?? false;
    const headers: Record<string, string> = isolated ? { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" } : {};
    const file = req.url?.replace(/^\/(isolated|plain)\//, "") ?? "";
    if (file === "" || file === "index.html") res.writeHead(200, { ...headers, "Content-Type": "text/html" }).end(html);
    else if (file === "page.js") res.writeHead(200, { ...headers, "Content-Type": "text/javascript" }).end(js);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await puppeteer.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

const results = async (path: string): Promise<PageResults> => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  try {
    await page.goto(`${origin}${path}`);
    await page.waitForFunction("window.cotangentResults !== undefined", { timeout: 30_000 });
    const r = (await page.evaluate("window.cotangentResults")) as PageResults;
    expect(errors).toEqual([]);
    expect(r.error).toBeUndefined();
    return r;
  } finally {
    await page.close();
  }
};

const checkValues = (r: PageResults) => {
  const d = inputs();
  const want = Array.from({ length: 64 * 32 }, (_, k) => {
    const [i, j] = [Math.floor(k / 32), k % 32];
    let s = 0;
    for (let p = 0; p < 48; p++) s += d.a[i * 48 + p]! * d.b[p * 32 + j]!;
    return s;
  });
  expect(r.matmul).toHaveLength(want.length);
  r.matmul.forEach((v, k) => expect(Math.abs(v - want[k]!)).toBeLessThan(1e-4 * (1 + Math.abs(want[k]!))));
  r.grad.forEach((v, k) => expect(v).toBeCloseTo(1 - Math.tanh(d.x[k]!) ** 2, 6));
  expect(r.vmap).toEqual(d.rows.map((row) => row.reduce((s, v, k) => s + v * d.w[k]!, 0)));
  const n = 256;
  expect(r.warnings).toEqual([]);
  expect(r.elementwise).toHaveLength(2 * n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    let t = 0;
    for (let i = 0; i < n; i++) {
      s += Math.max(Math.fround(d.big[i * n + j]! + d.big[j * n + i]!), 0);
      t += Math.fround(Math.sqrt(Math.fround(Math.fround(Math.abs(d.big[i * n + j]!) * 2) + 1)));
    }
    expect(Math.abs(r.elementwise[j]! - s)).toBeLessThan(1e-4 * (1 + Math.abs(s)));
    expect(Math.abs(r.elementwise[n + j]! - t)).toBeLessThan(1e-4 * (1 + Math.abs(t)));
  }
  [0, 255].forEach((i, half) => {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < n; p++) s += d.big[i * n + p]! * d.big[p * n + j]!;
      expect(Math.abs(r.bigMatmulRows[half * n + j]! - s)).toBeLessThan(1e-3 * (1 + Math.abs(s)));
    }
  });
};

describe("Cotangent in headless chromium", () => {
  it("computes a matmul, a grad and a vmap on a plain page (no cross-origin isolation)", async () => {
    const r = await results("/plain/");
    expect(r.crossOriginIsolated).toBe(false);
    // No SharedArrayBuffer here: the kernels run on the page's own thread, correctly.
    expect(r.threads).toBe(1);
    checkValues(r);
  });

  it("on a cross-origin-isolated page, the kernels use a worker per core and the values are the same", async () => {
    const r = await results("/isolated/");
    expect(r.crossOriginIsolated).toBe(true);
    expect(r.sharedArrayBuffer).toBe(true);
    expect(r.hardwareConcurrency).toBeGreaterThanOrEqual(2);
    expect(r.threads).toBe(r.hardwareConcurrency);
    checkValues(r);
  });
});
