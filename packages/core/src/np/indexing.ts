/** `np` indexing: slicing (`np.slice`, an index helper), take, takeAlongAxis, scatterAdd. */
export {};
