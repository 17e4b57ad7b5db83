/** Types of the parts of the `mnist` package (1.1) that the examples use. */
declare module "mnist" {
  interface DigitSet {
    /** Number of images of this digit. */
    length: number;
    /** Image i (784 intensities in [0, 1]); out of range it returns a random image, so stay below length. */
    get(i: number): number[];
  }
  const mnist: Record<number, DigitSet>;
  export default mnist;
}
