// Keyed BLAKE2s with a 16-byte output (RFC 7693): WireGuard's MAC, computed in place and without
// allocating. It is the one primitive the project writes itself rather than take from Node's
// crypto or @noble, and for a measured reason: MAC1 is the first check every handshake message
// meets, and under a flood it runs for every datagram (four times per cookie reply). @noble's
// blake2s made about 21 KB of garbage per call (its round function returns an object per step),
// about 85 KB per cookie reply: at 5,000 valid-MAC1 initiations/s that was 400 MB/s for the
// garbage collector, and most of the CPU. Node's crypto has BLAKE2s-256 but no key. This one keeps
// its state in typed arrays it owns and reads the message where it lies; it is checked against
// @noble's for keys and lengths of every block boundary (blake2s-mac.test.ts) and against the
// reference's keyed vectors and wireguard-go's messages through the handshake tests.

// Int32Array, not Uint32Array: words read as int32 stay small integers when passed around; a
// uint32 of 2^31 or more would be boxed as a heap number on every call of g.
const IV = Int32Array.of(
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
);

/** The message word permutation of each of the 10 rounds (RFC 7693, 2.7). */
const SIGMA = Uint8Array.of(
  0,
  1,
  2,
  3,
  4,
  5,
  6,
  7,
  8,
  9,
  10,
  11,
  12,
  13,
  14,
  15,
  14,
  10,
  4,
  8,
  9,
  15,
  13,
  6,
  1,
  12,
  0,
  2,
  11,
  7,
  5,
  3,
  11,
  8,
  12,
  0,
  5,
  2,
  15,
  13,
  10,
  14,
  3,
  6,
  7,
  1,
  9,
  4,
  7,
  9,
  3,
  1,
  13,
  12,
  11,
  14,
  2,
  6,
  5,
  10,
  4,
  0,
  15,
  8,
  9,
  0,
  5,
  7,
  2,
  4,
  10,
  15,
  14,
  1,
  11,
  12,
  6,
  8,
  3,
  13,
  2,
  12,
  6,
  10,
  0,
  11,
  8,
  3,
  4,
  13,
  7,
  5,
  15,
  14,
  1,
  9,
  12,
  5,
  1,
  15,
  14,
  13,
  4,
  10,
  0,
  7,
  6,
  3,
  9,
  2,
  8,
  11,
  13,
  11,
  7,
  14,
  12,
  1,
  3,
  9,
  5,
  0,
  15,
  4,
  8,
  6,
  2,
  10,
  6,
  15,
  14,
  9,
  11,
  3,
  0,
  8,
  12,
  2,
  13,
  7,
  1,
  4,
  10,
  5,
  10,
  2,
  8,
  4,
  7,
  6,
  1,
  5,
  15,
  11,
  9,
  14,
  3,
  12,
  13,
  0,
);

const BLOCK = 64;
/** WireGuard's MAC length. */
export const MAC_LENGTH = 16;

/** One state, reused call after call: not reentrant, which a single-threaded caller never needs. */
export class Blake2sMac {
  private readonly h = new Int32Array(8);
  private readonly v = new Int32Array(16);
  private readonly m = new Int32Array(16);
  private readonly block = new Uint8Array(BLOCK);

  /**
   * Writes MAC(key, data[offset, offset + length)) (keyed BLAKE2s, 16 bytes; key 1..32 bytes) to
   * out[outOffset, outOffset + 16). `out` may be `data`'s buffer when the ranges do not overlap.
   */
  macInto(key: Uint8Array, data: Uint8Array, offset: number, length: number, out: Uint8Array, outOffset: number): void {
    const h = this.h;
    h.set(IV);
    // The parameter block's first word: digest length, key length, fanout 1, depth 1.
    h[0] = (h[0] as number) ^ (0x01010000 | (key.length << 8) | MAC_LENGTH);
    // The key, zero-padded, is the first block; the last block is the one compressed as final.
    this.block.fill(0);
    this.block.set(key);
    let counter = BLOCK;
    this.loadWords(this.block, 0, BLOCK);
    if (length === 0) {
      this.compress(counter, true);
    } else {
      this.compress(counter, false);
      let at = offset;
      const end = offset + length;
      while (end - at > BLOCK) {
        counter += BLOCK;
        this.loadWords(data, at, BLOCK);
        this.compress(counter, false);
        at += BLOCK;
      }
      counter += end - at;
      this.loadWords(data, at, end - at);
      this.compress(counter, true);
    }
    for (let i = 0; i < MAC_LENGTH; i++) out[outOffset + i] = ((h[i >> 2] as number) >>> (8 * (i & 3))) & 0xff;
  }

  /**
   * True when MAC(key, data[offset, offset + length)) equals the 16 bytes at `expected` of `data`,
   * compared in constant time.
   */
  verify(key: Uint8Array, data: Uint8Array, offset: number, length: number, expected: number): boolean {
    this.macInto(key, data, offset, length, this.block, 0);
    let diff = 0;
    for (let i = 0; i < MAC_LENGTH; i++) diff |= (this.block[i] as number) ^ (data[expected + i] as number);
    return diff === 0;
  }

  /** The 16 little-endian words of `count` bytes at `at` of `bytes`, zero-padded to a block. */
  private loadWords(bytes: Uint8Array, at: number, count: number): void {
    const m = this.m;
    for (let w = 0; w < 16; w++) {
      const i = at + 4 * w;
      const left = count - 4 * w;
      if (left >= 4) {
        m[w] =
          (bytes[i] as number) |
          ((bytes[i + 1] as number) << 8) |
          ((bytes[i + 2] as number) << 16) |
          ((bytes[i + 3] as number) << 24);
      } else {
        let word = 0;
        for (let b = 0; b < left; b++) word |= (bytes[i + b] as number) << (8 * b);
        m[w] = word;
      }
    }
  }

  /** The compression function F (RFC 7693, 3.2) over this.m, `counter` bytes in so far. */
  private compress(counter: number, last: boolean): void {
    const { h, v, m } = this;
    for (let i = 0; i < 8; i++) {
      v[i] = h[i] as number;
      v[i + 8] = IV[i] as number;
    }
    v[12] = (v[12] as number) ^ counter; // counters here stay far below 2^31
    if (last) v[14] = ~(v[14] as number);
    for (let round = 0; round < 10; round++) {
      const s = round * 16;
      this.g(0, 4, 8, 12, m[SIGMA[s] as number] as number, m[SIGMA[s + 1] as number] as number);
      this.g(1, 5, 9, 13, m[SIGMA[s + 2] as number] as number, m[SIGMA[s + 3] as number] as number);
      this.g(2, 6, 10, 14, m[SIGMA[s + 4] as number] as number, m[SIGMA[s + 5] as number] as number);
      this.g(3, 7, 11, 15, m[SIGMA[s + 6] as number] as number, m[SIGMA[s + 7] as number] as number);
      this.g(0, 5, 10, 15, m[SIGMA[s + 8] as number] as number, m[SIGMA[s + 9] as number] as number);
      this.g(1, 6, 11, 12, m[SIGMA[s + 10] as number] as number, m[SIGMA[s + 11] as number] as number);
      this.g(2, 7, 8, 13, m[SIGMA[s + 12] as number] as number, m[SIGMA[s + 13] as number] as number);
      this.g(3, 4, 9, 14, m[SIGMA[s + 14] as number] as number, m[SIGMA[s + 15] as number] as number);
    }
    for (let i = 0; i < 8; i++) h[i] = (h[i] as number) ^ (v[i] as number) ^ (v[i + 8] as number);
  }

  /** The mixing function G (RFC 7693, 3.1) on words a, b, c, d of v, with message words x, y. */
  private g(a: number, b: number, c: number, d: number, x: number, y: number): void {
    const v = this.v;
    let va = v[a] as number;
    let vb = v[b] as number;
    let vc = v[c] as number;
    let vd = v[d] as number;
    va = (va + vb + x) | 0;
    vd ^= va;
    vd = (vd >>> 16) | (vd << 16);
    vc = (vc + vd) | 0;
    vb ^= vc;
    vb = (vb >>> 12) | (vb << 20);
    va = (va + vb + y) | 0;
    vd ^= va;
    vd = (vd >>> 8) | (vd << 24);
    vc = (vc + vd) | 0;
    vb ^= vc;
    vb = (vb >>> 7) | (vb << 25);
    v[a] = va;
    v[b] = vb;
    v[c] = vc;
    v[d] = vd;
  }
}
