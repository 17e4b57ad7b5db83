/**
 * `save(path, tree)` and `load(path)`: saved state on disk, for Node. The file system is
 * reached with a dynamic `import("node:fs/promises")`, so bundling this module for a
 * browser does not break (serialize/deserialize work there; save/load do not).
 *
 * A save is atomic: the bytes go to a temporary file in the same directory, are flushed
 * to the disk (fsync), and only then is the file renamed over `path` (a rename within
 * one file system replaces the target in a single step on POSIX). A crash or a kill at
 * any moment leaves either the previous save or the new one, never a mixture.
 */
import { ValueError } from "../errors.js";
import { type DeserializeOptions, deserialize, serialize } from "./serialize.js";

export type LoadOptions = Omit<DeserializeOptions, "op">;

const nodeFs = async (op: string): Promise<typeof import("node:fs/promises")> => {
  try {
    // Bundlers are told to leave the import alone, so browser bundles build; it fails (and
    // is reported below) only when save/load is actually called outside Node.
    return await import(/* webpackIgnore: true */ /* @vite-ignore */ "node:fs/promises");
  } catch (e) {
    throw new ValueError(`needs Node's file system (node:fs/promises), which is not available here: ${(e as Error).message}`, {
      op,
      hint: "in a browser, use serialize/deserialize and store the bytes yourself (IndexedDB, a download, ...)",
    });
  }
};

const checkPath = (op: string, path: unknown): string => {
  if (typeof path !== "string" || path.length === 0) {
    throw new ValueError(`path must be a non-empty string, got ${typeof path === "string" ? '""' : typeof path}`, { op, hint: 'e.g. save("checkpoints/run1.ctg", state)' });
  }
  return path;
};

/** `dir` and `base` of a path, without node:path (its separators are '/' and, on Windows, '\'). */
const splitPath = (path: string): [string, string] => {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i < 0 ? [".", path] : [path.slice(0, i) || "/", path.slice(i + 1)];
};

/**
 * `load` of a path where no file exists. It keeps Node's `code: "ENOENT"`, so "no
 * checkpoint yet" is told apart from a bad file as with Node's own error.
 */
export class FileNotFoundError extends ValueError {
  readonly code = "ENOENT";
}

const codeOf = (e: unknown): unknown => (e as { code?: unknown } | null)?.code;

/** A ValueError for `path` naming a directory, or `e` itself. */
const notADirectoryTarget = (op: string, path: string, e: unknown): unknown =>
  codeOf(e) === "EISDIR" ? new ValueError(`${JSON.stringify(path)} is a directory, not a file`, { op, hint: "give the path of a file, e.g. a name inside that directory" }) : e;

/**
 * Writes `tree` (any pytree {@link serialize} accepts: params, optimizer state, PRNG keys,
 * the step count, ...) to `path`, atomically: the file at `path` is either the previous
 * save or this one, whatever happens during the call (a crash, a kill, a full disk).
 * The tree is serialized before the disk is touched, so an unsavable value changes nothing.
 */
export const save = async (path: string, tree: unknown): Promise<void> => {
  checkPath("save", path);
  const bytes = serialize(tree);
  const fs = await nodeFs("save");
  const op = `save(${JSON.stringify(path)})`;
  const [dir, base] = splitPath(path);
  if (base === "") throw new ValueError("the path names a directory, not a file (it ends with a separator)", { op, hint: "add a file name, e.g. dir/state.ctg" });
  // Same directory as the target, so the rename stays within one file system.
  const tmp = `${dir}/.${base}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`;
  let renamed = false;
  try {
    const fh = await fs.open(tmp, "wx").catch((e: unknown) => {
      const code = codeOf(e);
      if (code === "ENOENT") {
        throw new ValueError(`the directory ${JSON.stringify(dir)} does not exist`, { op, hint: `create it first, e.g. await fs.mkdir(${JSON.stringify(dir)}, { recursive: true })` });
      }
      if (code === "ENOTDIR") throw new ValueError(`${JSON.stringify(dir)} is not a directory (a part of the path is a file)`, { op });
      throw e;
    });
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, path).catch((e: unknown) => {
      throw notADirectoryTarget(op, path, e);
    });
    renamed = true;
  } finally {
    if (!renamed) await fs.rm(tmp, { force: true }).catch(() => undefined);
  }
  // Make the rename itself durable. Directories cannot be opened for fsync everywhere
  // (Windows), and the save is already complete and atomic, so failure here is ignored.
  try {
    const d = await fs.open(dir, "r");
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    /* best effort */
  }
};

/**
 * Reads a pytree written by {@link save}. The whole file is validated first (size,
 * format version, CRC-32 checksums, manifest; with `like`, the tree structure, dtypes and
 * shapes against a template) and a ValueError says what is wrong; a valid file gives the
 * complete tree, never part of one. A missing file raises a {@link FileNotFoundError}
 * (with Node's `code: "ENOENT"`), so "no checkpoint yet" can be told apart from a bad one.
 */
export const load = async <T = any>(path: string, options: LoadOptions = {}): Promise<T> => {
  const op = "load";
  checkPath(op, path);
  const fs = await nodeFs(op);
  const named = `load(${JSON.stringify(path)})`;
  const bytes = await fs.readFile(path).catch((e: unknown) => {
    if (codeOf(e) === "ENOENT") throw new FileNotFoundError(`no file at ${JSON.stringify(path)}`, { op: named, hint: "check the path; a run that has not saved yet has no file to load" });
    if (codeOf(e) === "EACCES") throw new ValueError(`permission denied reading ${JSON.stringify(path)}`, { op: named });
    throw notADirectoryTarget(named, path, e);
  });
  return deserialize<T>(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { ...options, op: named });
};
