/** Errors shown concisely: `Name: message`, the hint, and the user's frames only. */
import { type MimeBundle, display, escapeHtml } from "./display.js";

/** Frames from the library, its dependencies, Node and the kernel: hidden from users. */
const INTERNAL = /\bnode:[a-z_]|node_modules[\\/]|[\\/]packages[\\/](core|optim|nn|notebook|onnx)[\\/](src|dist)[\\/]|@cotangent[\\/]|[\\/]tslab[\\/]|^\s*at (new Promise|Generator\.next|process\.processTicksAndRejections|async Promise\.all)/;

/** The user's stack frames of `e` (each `at ...` line), innermost first. */
export const userFrames = (e: unknown): string[] => {
  const err = e as Error;
  let stack = typeof e === "object" && e !== null && "stack" in e ? String(err.stack ?? "") : "";
  // The stack starts with `Name: message`; a Cotangent message has its own `  at file:line` line, not a frame.
  const head = `${err.name}: ${err.message}`;
  if (stack.startsWith(head)) stack = stack.slice(head.length);
  return stack
    .split("\n")
    .filter((l) => /^\s*at /.test(l) && !INTERNAL.test(l))
    .map((l) => l.trim());
};

/**
 * `Name: message` (for Cotangent errors the message already carries the user's line and
 * the hint), then the user's frames; library and runtime frames are dropped, and fields
 * are not printed a second time.
 */
export const formatError = (e: unknown): string => {
  if (!(e instanceof Error) && !(typeof e === "object" && e !== null && "message" in e)) return `Thrown: ${String(e)}`;
  const err = e as Error & { hint?: unknown };
  const message = String(err.message);
  const lines = [`${err.name || "Error"}: ${message}`];
  if (typeof err.hint === "string" && !message.includes(err.hint)) lines.push(`  hint: ${err.hint}`);
  const frames = userFrames(err);
  if (frames.length) lines.push(...frames.slice(0, 5).map((f) => `    ${f}`));
  return lines.join("\n");
};

/** The concise error as a MIME bundle (plain text and a red-titled HTML block). */
export const errorBundle = (e: unknown): MimeBundle => {
  const text = formatError(e);
  const [head, ...rest] = text.split("\n");
  const [name, ...msg] = head!.split(": ");
  return {
    "text/plain": text,
    "text/html": `<pre style="white-space:pre-wrap"><b style="color:#b2182b">${escapeHtml(name!)}</b>: ${escapeHtml(msg.join(": "))}${rest.length ? "\n" + escapeHtml(rest.join("\n")) : ""}</pre>`,
  };
};

/** Displays `e` concisely (see {@link formatError}). */
export const showError = (e: unknown): void => {
  display(errorBundle(e));
};

/**
 * Runs `fn`; if it throws, rethrows the same error with its stack cut to the concise form,
 * so the kernel's traceback shows `Name: message`, the hint and the user's frames only.
 */
export function concise<T>(fn: () => T): T {
  const trim = (e: unknown): never => {
    if (e instanceof Error) {
      try {
        let text = formatError(e);
        // Node prefixes the stack of an error leaving `vm` code (a tslab cell) with the source
        // line it was thrown from and a caret: here that is this rethrow, not the user's line.
        Object.defineProperty(e, "stack", {
          configurable: true,
          enumerable: false,
          get: () => text,
          set: (v: unknown) => {
            if (typeof v === "string" && !v.endsWith(`\n${text}`)) text = v;
          },
        });
      } catch {
        // A frozen error keeps its stack.
      }
    }
    throw e;
  };
  try {
    const r = fn();
    return (r instanceof Promise ? r.catch(trim) : r) as T;
  } catch (e) {
    return trim(e);
  }
}
