/**
 * CRC-32 (IEEE 802.3: the polynomial gzip, zlib and .gnu_debuglink use), in plain JS so that it
 * runs in the browser (the pprof gzip export) and on any Node (zlib.crc32 is 20.15+).
 */
let table: Uint32Array | undefined;

/** CRC-32 of `data`, continuing from `crc` (the CRC of the bytes before it; 0 to start), as zlib.crc32. */
export function crc32(data: Uint8Array, crc = 0): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
