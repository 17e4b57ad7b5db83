/** `random`: threefry2x32 keys and samplers. */
export {};
