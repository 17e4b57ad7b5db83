/**
 * Global settings, as JAX's `jax.config`: `config.update("debugNans", true)`,
 * `config.read("debugNans")`, and the scoped forms `withDebugNans(() => ...)` and
 * `withDebugInfs(() => ...)`. The flags live in one small object that the hot paths
 * (eager `bind`, the interpreter) read with a single boolean check, so they cost nothing
 * measurable while off.
 */
import { ValueError } from "./errors.js";
import { closestName } from "./did_you_mean.js";

/** The settings and their types. */
export interface ConfigValues {
  /** Raise FloatingPointError when an equation produces a NaN. */
  debugNans: boolean;
  /** Raise FloatingPointError when an equation produces +-inf. */
  debugInfs: boolean;
  /**
   * `random` draws bits and splits keys with JAX's partitionable threefry layout (counters
   * are each element's index), as `jax_threefry_partitionable` (JAX's default since 0.5.0).
   * Off by default here: the original layout, whose streams the docs print.
   */
  threefryPartitionable: boolean;
}

export type ConfigKey = keyof ConfigValues;

/**
 * The live flags read by the evaluators. `check` is `nans || infs`: the one boolean the hot
 * paths test. Internal: change them through {@link config}.
 */
export const debugFlags = { nans: false, infs: false, check: false };

/** The live random-layout flag read by `random` (internal: change it through {@link config}). */
export const randomFlags = { partitionable: false };

const values: ConfigValues = { debugNans: false, debugInfs: false, threefryPartitionable: false };
const keys = Object.keys(values) as ConfigKey[];

const sync = (): void => {
  debugFlags.nans = values.debugNans;
  debugFlags.infs = values.debugInfs;
  debugFlags.check = values.debugNans || values.debugInfs;
  randomFlags.partitionable = values.threefryPartitionable;
};

const checkKey = (op: string, key: unknown): ConfigKey => {
  if (typeof key === "string" && (keys as string[]).includes(key)) return key as ConfigKey;
  const shown = typeof key === "string" ? `'${key}'` : `a ${key === null ? "null" : typeof key}`;
  let hint = `the settings are ${keys.map((k) => `'${k}'`).join(", ")}`;
  if (typeof key === "string") {
    // JAX spells them jax_debug_nans / jax_debug_infs: closestName ignores the prefix, underscores and case.
    const near = closestName(key, keys);
    if (near !== undefined) hint = `did you mean '${near}'? (${hint})`;
  }
  throw new ValueError(`unknown setting ${shown}`, { op, hint });
};

const checkValue = (op: string, key: ConfigKey, value: unknown): boolean => {
  if (typeof value !== "boolean") {
    throw new ValueError(`setting '${key}' takes true or false, got ${value === null ? "null" : typeof value === "string" ? `'${value}'` : String(value)}`, { op });
  }
  return value;
};

/** Global settings (JAX's `jax.config`). */
export const config = {
  /** Sets a setting: `config.update("debugNans", true)`. An unknown key is a ValueError with a "did you mean". */
  update<K extends ConfigKey>(key: K, value: ConfigValues[K]): void {
    const k = checkKey("config.update", key);
    values[k] = checkValue("config.update", k, value);
    sync();
  },
  /** The current value of a setting. */
  read<K extends ConfigKey>(key: K): ConfigValues[K] {
    return values[checkKey("config.read", key)] as ConfigValues[K];
  },
};

/** Runs `work` with the given settings, restoring the previous values afterwards (also on a throw). */
export const withConfig = <T>(settings: Partial<ConfigValues>, work: () => T): T => {
  const op = "withConfig";
  if (typeof settings !== "object" || settings === null) throw new ValueError("settings must be an object such as { debugNans: true }", { op });
  const entries = Object.entries(settings).map(([k, v]) => {
    const key = checkKey(op, k);
    return [key, checkValue(op, key, v)] as const;
  });
  if (typeof work !== "function") throw new ValueError(`work must be a function, got ${typeof work}`, { op });
  const saved = { ...values };
  for (const [k, v] of entries) values[k] = v;
  sync();
  try {
    return work();
  } finally {
    Object.assign(values, saved);
    sync();
  }
};

/** Runs `work` with `debugNans` on: any equation producing a NaN raises FloatingPointError. */
export const withDebugNans = <T>(work: () => T): T => withConfig({ debugNans: true }, work);

/** Runs `work` with `debugInfs` on: any equation producing +-inf raises FloatingPointError. */
export const withDebugInfs = <T>(work: () => T): T => withConfig({ debugInfs: true }, work);
