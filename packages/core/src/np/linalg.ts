/** `np` linear algebra: matmul, dot, tensordot, einsum, outer — all lowered to dot_general. */
export {};
