// TAI64N timestamps (12 bytes: 2^62 + seconds big-endian, then nanoseconds), the replay guard
// of handshake initiations. Compared as bytes: a later time is a larger string.

const TAI64_BASE = 2n ** 62n + 10n; // the TAI-UTC offset the reference implementations add

export function tai64n(nowMs: number): Uint8Array {
  const out = new Uint8Array(12);
  const view = new DataView(out.buffer);
  const seconds = Math.floor(nowMs / 1000);
  view.setBigUint64(0, TAI64_BASE + BigInt(seconds));
  // Whole milliseconds only: finer resolution would let an observer fingerprint the clock.
  view.setUint32(8, (nowMs - seconds * 1000) * 1_000_000);
  return out;
}

/** a > b, as timestamps. */
export function tai64nAfter(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 12; i++) {
    if (a[i] !== b[i]) return (a[i] as number) > (b[i] as number);
  }
  return false;
}
