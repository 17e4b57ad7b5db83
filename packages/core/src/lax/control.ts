/** lax control flow: cond, switch, scan, whileLoop, foriLoop, map. */
export { cond, switchCase as switch, scan, whileLoop, foriLoop, map } from "../higher/control/api.js";
export type { ScanOptions } from "../higher/control/api.js";
