/** Number formatting shared by the table and the chart. */

/** Three significant digits in exponent form ("1.23e-4"), "0" for zero, "NaN"/"Infinity" as is. */
export const sci = (x: number): string => (x === 0 ? "0" : Number.isFinite(x) ? x.toExponential(2) : String(x));

/** An integer with thousands separators ("12,345"). */
export const count = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
