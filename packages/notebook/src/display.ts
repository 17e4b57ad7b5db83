/**
 * Where MIME bundles go. Inside the tslab kernel they are sent as Jupyter `display_data`
 * messages (several MIME types in one message, so every front end finds one it can show);
 * anywhere else the text/plain part is printed, so a script that calls `show` still works.
 */

/** A Jupyter MIME bundle: MIME type to content. `text/plain` is always present. */
export interface MimeBundle {
  "text/plain": string;
  [mime: string]: string;
}

type WriteDisplayData = (data: { data: Record<string, string>; metadata: object; transient: { display_id?: string } }, update: boolean) => void;

/** What a display goes to: the kernel, or a function (tests, other front ends). */
export type DisplaySink = (bundle: MimeBundle, displayId: string | null, update: boolean) => void;

let customSink: DisplaySink | null = null;

/**
 * tslab's own `jupyter` module, found in the CommonJS module cache of the kernel process.
 * `require("tslab")` is only hooked for cell code, so a library reaches the kernel this way.
 * Returns null outside tslab (plain Node, browsers, test runners): nothing is sent then.
 */
const tslabJupyter = (): { lastWriteDisplayData: WriteDisplayData | null } | null => {
  const proc = (globalThis as { process?: { mainModule?: { filename?: string; constructor?: { _cache?: Record<string, { exports: unknown }> } } } }).process;
  const main = proc?.mainModule;
  if (!main || !/tslab/.test(main.filename ?? "")) return null;
  const cache = main.constructor?._cache ?? {};
  const key = Object.keys(cache).find((k) => /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(k));
  return key ? (cache[key]!.exports as { lastWriteDisplayData: WriteDisplayData | null }) : null;
};

/** True when running inside the tslab Jupyter kernel (and a cell is executing). */
export const inTslab = (): boolean => typeof tslabJupyter()?.lastWriteDisplayData === "function";

/** True when displays reach a notebook (tslab) or a sink set with {@link setDisplaySink}, so outputs can be updated in place. */
export const hasLiveDisplay = (): boolean => customSink !== null || inTslab();

/** Routes displays to `sink` instead of the kernel/console; `null` restores the default. Returns the previous sink. */
export const setDisplaySink = (sink: DisplaySink | null): DisplaySink | null => {
  const prev = customSink;
  customSink = sink;
  return prev;
};

let counter = 0;
/** A fresh display id, for outputs updated in place. */
export const newDisplayId = (): string => `cotangent-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/**
 * Sends `bundle` to the notebook. With a `displayId`, a later call with the same id and
 * `update: true` replaces that output in place (Jupyter's `update_display_data`).
 */
export const display = (bundle: MimeBundle, options: { displayId?: string; update?: boolean } = {}): void => {
  const id = options.displayId ?? null;
  const update = options.update ?? false;
  if (customSink) return customSink(bundle, id, update);
  const write = tslabJupyter()?.lastWriteDisplayData;
  if (typeof write === "function") {
    write({ data: { ...bundle }, metadata: {}, transient: id ? { display_id: id } : {} }, update);
    return;
  }
  // Outside a notebook: updates are dropped (no terminal to redraw), new outputs printed.
  if (!update) console.log(bundle["text/plain"]);
};

export const escapeHtml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
