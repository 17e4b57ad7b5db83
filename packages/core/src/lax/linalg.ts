/** lax linear algebra: dotGeneral, convGeneralDilated. */
export {};
