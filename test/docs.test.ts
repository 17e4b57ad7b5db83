/**
 * Every ```ts block of docs/*.md runs, type-checks, and prints what the page says it prints.
 *
 * - Each block is a self-contained module: it is written to test/.docs-tmp/ (gitignored)
 *   with its lines unchanged and imported. Imports of `@cotangent/<pkg>` point at the
 *   package sources, so the docs test what is in the tree.
 * - A ```text block right after a ```ts block is that block's expected console.log output.
 *   Paths of the temporary module print as `main.ts`, the name a reader would give the file.
 * - ```ts skip marks a block that is deliberately not run (keep those rare).
 * - All blocks are type-checked together with the compiler options of tsconfig.base.json.
 * - docs/README.md links every page, and every relative link (and #anchor) resolves.
 *
 * A page whose blocks follow another convention and are run by a package's own test (a
 * test file under packages/<pkg>/test that names `docs/<page>`) is left to that test.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { format } from "node:util";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const docsDir = join(root, "docs");
// One folder per process, so that two test runs in the same tree do not overwrite each other's files.
const tmpDir = join(root, "test", ".docs-tmp", String(process.pid));

interface Block {
  page: string;
  /** Line of the block's first code line in the page (1-based). */
  line: number;
  code: string;
  skip: boolean;
  /** The ```text block that follows, if any. */
  output?: string;
  /** 0-based line index of the output block's first line in the page. */
  outputStart?: number;
  file: string;
}

const FENCE = /^```\s*([\w-]*)\s*(.*)$/;

/** The fenced blocks of a page, with the ```text block that directly follows each ts block. */
const parseBlocks = (page: string, text: string): Block[] => {
  const lines = text.split("\n");
  const fences: { lang: string; attrs: string; start: number; body: string[] }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = FENCE.exec(lines[i]!);
    if (!m) continue;
    const start = i + 1;
    let j = start;
    while (j < lines.length && !lines[j]!.startsWith("```")) j++;
    if (j === lines.length) throw new Error(`${page}:${i + 1}: unclosed code fence`);
    fences.push({ lang: m[1]!, attrs: m[2]!, start, body: lines.slice(start, j) });
    i = j;
  }
  const blocks: Block[] = [];
  fences.forEach((f, k) => {
    if (f.lang !== "ts" && f.lang !== "typescript") return;
    const next = fences[k + 1];
    // The output block must follow with nothing but blank lines in between.
    const between = next ? lines.slice(f.start + f.body.length + 1, next.start - 1) : [];
    const hasOutput = next !== undefined && next.lang === "text" && between.every((l) => l.trim() === "");
    const output = hasOutput ? next.body.join("\n") : undefined;
    const line = f.start + 1;
    blocks.push({
      page,
      line,
      code: f.body.join("\n"),
      skip: /\bskip\b/.test(f.attrs),
      output,
      outputStart: hasOutput ? next.start : undefined,
      file: join(tmpDir, `${page.replace(/\.md$/, "")}-L${line}.ts`),
    });
  });
  return blocks;
};

/** `@cotangent/core` -> the source entry of packages/core, on the same line (line numbers stay). */
const pointAtSources = (code: string): string =>
  code.replace(/(["'])@cotangent\/([\w-]+)\1/g, (_m, q: string, pkg: string) => `${q}${join(root, "packages", pkg, "src", "index.js")}${q}`);

/** console.log output as the page shows it: temp paths read `main.ts`, no trailing spaces. */
const normalize = (s: string): string =>
  s
    .replace(/(?:[^\s()'"`]*[\\/])?\.docs-tmp[\\/](?:[\w.-]+[\\/])*[\w.-]+?\.ts/g, "main.ts")
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n")
    .trim();

const pages = readdirSync(docsDir)
  .filter((f) => f.endsWith(".md"))
  .sort();
const texts = new Map(pages.map((p) => [p, readFileSync(join(docsDir, p), "utf8")]));
/** Pages a package test runs itself (e.g. packages/optim/test/docs.test.ts runs docs/optim.md in one scope). */
const testedElsewhere = new Set(
  readdirSync(join(root, "packages")).flatMap((pkg) => {
    const dir = join(root, "packages", pkg, "test");
    let files: string[] = [];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith(".test.ts"));
    } catch {
      return [];
    }
    const sources = files.map((f) => readFileSync(join(dir, f), "utf8"));
    return pages.filter((p) => sources.some((s) => s.includes(`docs/${p}`)));
  }),
);
const blocks = pages.filter((p) => !testedElsewhere.has(p)).flatMap((p) => parseBlocks(p, texts.get(p)!));
const runnable = blocks.filter((b) => !b.skip);

beforeAll(() => {
  rmSync(tmpDir, { recursive: true, force: true });
  mkdirSync(tmpDir, { recursive: true });
  // `export {}` keeps every block a module of its own, so names do not clash between blocks.
  for (const b of runnable) writeFileSync(b.file, `${pointAtSources(b.code)}\nexport {};\n`);
});
afterAll(() => rmSync(tmpDir, { recursive: true, force: true }));

/** Imports a block's module, collecting what it prints with console.log. */
const run = async (b: Block): Promise<string> => {
  const printed: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => void printed.push(format(...args));
  try {
    await import(/* @vite-ignore */ pathToFileURL(b.file).href);
  } catch (e) {
    const err = e as Error;
    err.message = `docs/${b.page}:${b.line}: the block threw\n${err.message}`;
    throw err;
  } finally {
    console.log = log;
  }
  return printed.join("\n");
};

/** Lines each page has grown by from rewrites in this run (blocks of a page run in order). */
const growth = new Map<string, number>();

/** UPDATE_DOCS_OUTPUT=1: replaces a block's ```text output with what it printed. */
const rewriteOutput = (b: Block, printed: string): void => {
  const path = join(docsDir, b.page);
  const lines = readFileSync(path, "utf8").split("\n");
  const start = b.outputStart! + (growth.get(b.page) ?? 0);
  const old = b.output!.split("\n").length;
  const fresh = printed.split("\n");
  lines.splice(start, old, ...fresh);
  writeFileSync(path, lines.join("\n"));
  growth.set(b.page, (growth.get(b.page) ?? 0) + fresh.length - old);
};

describe("docs code blocks", () => {
  it("there are blocks, and few are skipped", () => {
    expect(runnable.length).toBeGreaterThan(0);
    expect(blocks.filter((b) => b.skip).length).toBeLessThanOrEqual(Math.ceil(blocks.length / 20));
  });

  for (const page of pages) {
    const mine = runnable.filter((b) => b.page === page);
    if (mine.length === 0) continue;
    describe(page, () => {
      for (const b of mine) {
        it(`block at line ${b.line} runs${b.output !== undefined ? " and prints its output" : ""}`, async () => {
          const printed = await run(b);
          if (b.output !== undefined && process.env.UPDATE_DOCS_OUTPUT === "1" && normalize(printed) !== normalize(b.output)) {
            rewriteOutput(b, normalize(printed));
          } else if (b.output !== undefined) {
            expect(normalize(printed), `docs/${b.page}:${b.line}: printed output differs from the text block after it`).toBe(normalize(b.output));
          }
        });
      }
    });
  }

  it("type-check", () => {
    const base = JSON.parse(readFileSync(join(root, "tsconfig.base.json"), "utf8")).compilerOptions;
    const { options, errors } = ts.convertCompilerOptionsFromJson({ ...base, noEmit: true, declaration: false, sourceMap: false }, root);
    expect(errors).toEqual([]);
    const files = runnable.map((b) => b.file);
    const program = ts.createProgram(files, options);
    const byFile = new Map(runnable.map((b) => [resolve(b.file), b]));
    // Only the blocks' own diagnostics: the library sources are checked by `pnpm typecheck`.
    const problems = program
      .getSourceFiles()
      .filter((sf) => byFile.has(resolve(sf.fileName)))
      .flatMap((sf) => [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)])
      .map((d) => {
        const b = byFile.get(resolve(d.file!.fileName))!;
        const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
        return `docs/${b.page}:${b.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
      });
    expect(problems).toEqual([]);
  });
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
const anchorsOf = (text: string): Set<string> => {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let inFence = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("```")) inFence = !inFence;
    const m = !inFence && /^#{1,6}\s+(.*)$/.exec(line);
    if (!m) continue;
    const slug = m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
};

describe("docs links", () => {
  it("README.md links every page", () => {
    const index = texts.get("README.md") ?? "";
    const missing = pages.filter((p) => p !== "README.md" && !index.includes(`](${p})`) && !index.includes(`](./${p})`));
    expect(missing).toEqual([]);
  });

  it("every relative link and anchor resolves", () => {
    const broken: string[] = [];
    for (const [page, text] of texts) {
      const prose = text.replace(/```[\s\S]*?```/g, (m) => m.replace(/[^\n]/g, ""));
      for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/i.test(target)) continue; // http(s), mailto
        const [path, anchor] = target.split("#") as [string, string | undefined];
        const file = path === "" ? page : path.replace(/^\.\//, "");
        const abs = join(docsDir, file);
        let linked: string | undefined = texts.get(file);
        if (linked === undefined) {
          try {
            linked = readFileSync(abs, "utf8");
          } catch {
            broken.push(`docs/${page}: ${target} (no such file)`);
            continue;
          }
        }
        if (anchor && file.endsWith(".md") && !anchorsOf(linked).has(anchor)) broken.push(`docs/${page}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });
});
