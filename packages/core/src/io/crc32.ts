/**
 * CRC-32 as used by zlib, PNG and gzip (CRC-32/ISO-HDLC): the reflected form of the
 * polynomial 0x04C11DB7 (ISO 3309 / ITU-T V.42), i.e. 0xEDB88320 processed least
 * significant bit first, initial value 0xFFFFFFFF and a final complement. The standard
 * check value is CRC32("123456789") = 0xCBF43926 (Greg Cook, "Catalogue of parametrised
 * CRC algorithms"). Written here so the saved-state format has no native dependency.
 */

/** The reflected polynomial. */
const POLY = 0xedb88320;

/** One table entry per byte value: the CRC of that byte alone, shifted through 8 rounds. */
const TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? POLY ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * Continues a CRC over `bytes`. Start with `crc = 0` (the initial 0xFFFFFFFF and the final
 * complement are applied inside), and pass the previous result to checksum several pieces
 * as if they were one: `crc32(b, crc32(a)) === crc32(a ++ b)`.
 */
export const crc32 = (bytes: Uint8Array, crc = 0): number => {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
};
