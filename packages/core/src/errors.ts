/**
 * Typed errors. Every message names the op, the shapes or axes involved, the argument at
 * fault and the user's source line, and suggests a fix when one is known.
 */

/** Frames from Cotangent's own sources (or built bundles) are skipped when naming the user's line. */
const LIBRARY_FRAME = /packages[\\/](core|optim|nn)[\\/](src|dist)[\\/]|@cotangent[\\/](core|optim|nn)[\\/]dist|node:internal|node_modules[\\/](fp-ts|io-ts|vitest|@vitest|tinypool)/;

const FRAME = /\(?((?:file:\/\/)?[^()\s]+?):(\d+):(\d+)\)?$/;

const tidyPath = (p: string): string => {
  let s = p.replace(/^file:\/\//, "");
  const cwd = typeof process !== "undefined" && process.cwd ? process.cwd() : "";
  if (cwd && s.startsWith(cwd + "/")) s = s.slice(cwd.length + 1);
  return s;
};

/** A call site captured cheaply; the stack text is only parsed when somebody reads it. */
export class SourceInfo {
  private parsed: string | null | undefined;
  constructor(private readonly err: Error) {}
  /** `file:line` of the first frame outside Cotangent, or null when none is found. */
  get location(): string | null {
    if (this.parsed === undefined) this.parsed = userFrame(this.err.stack ?? "");
    return this.parsed;
  }
  toString(): string {
    return this.location ?? "<unknown>";
  }
}

const userFrame = (stack: string): string | null => {
  for (const line of stack.split("\n").slice(1)) {
    if (LIBRARY_FRAME.test(line)) continue;
    const m = FRAME.exec(line.trim());
    if (m) return `${tidyPath(m[1]!)}:${m[2]}`;
  }
  return null;
};

/** Captures the current call site. Cheap: V8 formats the stack lazily. */
export const captureSource = (): SourceInfo => {
  const prev = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const e = new Error();
  Error.stackTraceLimit = prev;
  return new SourceInfo(e);
};

export interface ErrorDetails {
  /** The op (primitive or API function) that raised it, e.g. `add` or `np.reshape`. */
  op?: string;
  /** The user's `file:line`; captured automatically when absent. */
  source?: SourceInfo | string | null;
  /** How to fix it, when known. */
  hint?: string;
}

/** Base class of every Cotangent error. */
export class CotangentError extends Error {
  readonly op: string | undefined;
  readonly source: string | null;
  readonly hint: string | undefined;
  /** The message without the op prefix, source line and hint. */
  readonly detail: string;
  constructor(detail: string, details: ErrorDetails = {}) {
    const src =
      details.source === undefined
        ? captureSource().location
        : details.source === null
          ? null
          : typeof details.source === "string"
            ? details.source
            : details.source.location;
    const parts = [details.op ? `${details.op}: ${detail}` : detail];
    if (src) parts.push(`  at ${src}`);
    if (details.hint) parts.push(`  hint: ${details.hint}`);
    super(parts.join("\n"));
    this.name = new.target.name;
    this.op = details.op;
    this.source = src;
    this.hint = details.hint;
    this.detail = detail;
    hideFields(this, ["name", "op", "source", "hint", "detail"]);
    pruneStack(this);
  }

  /**
   * Node's `util.inspect` (console.log, console.error, the REPL, tslab) prints the error
   * once: its stack, which starts with `Name: message`, and no fields after it (a subclass's
   * own fields, e.g. `DecodeError.failures`, are already in the message).
   */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.stack ?? `${this.name}: ${this.message}`;
  }
}

/** Frames inside Cotangent's own files (sources or built bundles, any package). */
const INTERNAL_FRAME = /packages[\\/](core|optim|nn|onnx|notebook)[\\/](src|dist)[\\/]|@cotangent[\\/][a-z]+[\\/]dist[\\/]/;

/**
 * Drops the library's own frames from `e.stack`, keeping the user's (and the runtime's):
 * the top of a stack is then the user's call, not ten frames of Cotangent internals. When
 * every frame is internal (a failure outside any user call) the stack is kept whole. The
 * header is read when the stack is, so a message extended later (FloatingPointError's
 * `inside scan ...`) shows in the stack too.
 */
const pruneStack = (e: Error): void => {
  const raw = e.stack;
  if (typeof raw !== "string") return;
  const head = `${e.name}: ${e.message}`;
  const frames = (raw.startsWith(head) ? raw.slice(head.length) : raw.slice(raw.indexOf("\n    at ") + 1 || raw.length)).split("\n").filter((l) => l.length > 0);
  const isFrame = (l: string) => /^\s+at /.test(l);
  const kept = frames.filter((l) => !(isFrame(l) && INTERNAL_FRAME.test(l)));
  const shown = kept.some(isFrame) ? kept : frames;
  let replaced: string | undefined;
  const current = () => replaced ?? [`${e.name}: ${e.message}`, ...shown].join("\n");
  Object.defineProperty(e, "stack", {
    configurable: true,
    enumerable: false,
    get: current,
    set: (v: string) => {
      // Node prefixes the stack of an error thrown through `vm` code (tslab's cells, the REPL)
      // with the source line of its innermost frame and a caret: for a Cotangent error that is
      // a line of the library, so the stack is kept as it was.
      if (typeof v === "string" && v !== current() && v.endsWith(`\n${current()}`) && INTERNAL_FRAME.test(v.slice(0, v.indexOf("\n")))) return;
      replaced = v;
    },
  });
};

/**
 * Makes fields non-enumerable, so that Node's inspect (and tslab, and console.error) prints
 * an error once, as its message and stack, without repeating the fields (`hint: undefined`).
 */
const hideFields = (e: object, keys: string[]): void => {
  for (const k of keys) {
    const d = Object.getOwnPropertyDescriptor(e, k);
    if (d) Object.defineProperty(e, k, { ...d, enumerable: false });
  }
};

/** A kernel failed for a reason other than the op's input (a worker thread that died, an engine fault). */
export class KernelError extends CotangentError {}
/** Shapes that do not fit the op (broadcasting, contraction, reshape sizes, ...). */
export class ShapeError extends CotangentError {}
/** A dtype the op does not accept, or two dtypes that must agree and do not. */
export class DTypeError extends CotangentError {}
/** An axis out of range or repeated. */
export class AxisError extends CotangentError {}
/** An index or slice bound outside the array. */
export class IndexError extends CotangentError {}
/** An argument of the wrong kind or value (ragged nested arrays, bad options, ...). */
export class ValueError extends CotangentError {}
/** A pytree that cannot be walked: it contains itself (a cycle), or nests deeper than `tree.MAX_DEPTH`. */
export class TreeError extends ValueError {}
/** A traced value was coerced to a concrete JS number, string or boolean. */
export class ConcretizationError extends CotangentError {}
/** A tracer was used after the trace that created it ended. */
export class UnexpectedTracerError extends CotangentError {}
/** A jaxpr that is not well formed (see `typecheck`). */
export class TypecheckError extends CotangentError {}
/** A transform cannot proceed: a missing rule, a non-scalar output for grad, ... */
export class TransformError extends CotangentError {}
/** Two values that must have the same type (shape and dtype) do not: cond branches, a scan or while carry. */
export class TypeMismatchError extends CotangentError {}

/**
 * A NaN or infinity appeared with `debugNans` / `debugInfs` on. Names the primitive, the
 * equation as the jaxpr prints it, the user's line and, for an equation that a transform
 * emitted (a gradient), the forward equation it was derived from and that one's line.
 */
export class FloatingPointError extends CotangentError {
  /** The primitive whose output was not finite. */
  readonly primitive: string;
  /** The equation, printed as in its jaxpr. */
  readonly equation: string;
  /** The forward equation this one was derived from by differentiation, when it was. */
  readonly forwardEquation: string | null;
  /** The user's line of the forward equation. */
  readonly forwardSource: string | null;
  constructor(
    detail: string,
    info: { primitive: string; equation: string; forwardEquation: string | null; forwardSource: string | null },
    details: ErrorDetails = {},
  ) {
    super(detail, details);
    this.primitive = info.primitive;
    this.equation = info.equation;
    this.forwardEquation = info.forwardEquation;
    this.forwardSource = info.forwardSource;
    hideFields(this, ["primitive", "equation", "forwardEquation", "forwardSource", "within"]);
  }
  /** The enclosing higher-order equations (scan, cond, while, ...), innermost first. */
  readonly within: string[] = [];
  /** Records an enclosing equation (`scan at main.ts:9`) and adds it to the message. */
  addWithin(where: string): void {
    this.within.push(where);
    const parts = [`${this.op ? `${this.op}: ` : ""}${this.detail}`, ...this.within.map((w) => `  inside ${w}`)];
    if (this.source) parts.push(`  at ${this.source}`);
    if (this.hint) parts.push(`  hint: ${this.hint}`);
    this.message = parts.join("\n");
  }
}
