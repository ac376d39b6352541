// The per-source token bucket for handshake messages under load (whitepaper 5.3; wireguard-go's
// ratelimiter package and the kernel's ratelimiter.c use the same numbers): 20 messages per
// second per source address, bursts of 5. It runs after the cookie check, so a source must be
// able to receive at its address to be counted here, and before any Diffie-Hellman work.
// IPv6 sources count by their /64 (as the kernel does: one host usually holds a whole /64).
// Bounded: an entry is forgotten once its bucket has been full for a second (a sweep at most once
// a second), and the table holds at most `capacity` sources; a new source beyond that is refused
// and counted by the caller, as the kernel does, since a source reaches this table only with a
// valid cookie, which takes receiving at that address.

export interface RateLimiterOptions {
  /** Messages per second per source (default 20). */
  perSecond?: number;
  /** Messages a source may send at once (default 5). */
  burst?: number;
  /** Sources tracked at once (default 16,384, about 1.5 MB). */
  capacity?: number;
}

/** What `allow` decided. */
export type RateDecision = 'allowed' | 'limited' | 'table-full';

interface Bucket {
  /** Milliseconds of sending the source has banked (at most burst × cost). */
  tokens: number;
  lastAt: number;
}

/** Milliseconds between sweeps of idle entries (and their idle time before they go). */
const SWEEP_INTERVAL = 1000;

export class RateLimiter {
  private readonly cost: number;
  private readonly maxTokens: number;
  readonly capacity: number;
  private readonly buckets = new Map<number | string, Bucket>();
  private lastSweepAt = -Infinity;

  constructor(options: RateLimiterOptions = {}) {
    const perSecond = options.perSecond ?? 20;
    this.cost = 1000 / perSecond;
    this.maxTokens = this.cost * (options.burst ?? 5);
    this.capacity = options.capacity ?? 16_384;
  }

  /** Sources tracked now. */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * Takes one message from the source address in the first `length` bytes (4 or 16) of `address`
   * (a cookie source's, its port left out without a view) at `now` (ms): allowed
   * while its bucket holds a message's worth, else limited; a source not yet tracked when the
   * table is full is refused ('table-full').
   */
  allow(address: Uint8Array, now: number, length = address.length): RateDecision {
    if (now - this.lastSweepAt >= SWEEP_INTERVAL) this.sweep(now);
    const key = sourceKey(address, length);
    const bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.capacity) return 'table-full';
      this.buckets.set(key, { tokens: this.maxTokens - this.cost, lastAt: now });
      return 'allowed';
    }
    bucket.tokens = Math.min(this.maxTokens, bucket.tokens + Math.max(0, now - bucket.lastAt));
    bucket.lastAt = now;
    if (bucket.tokens < this.cost) return 'limited';
    bucket.tokens -= this.cost;
    return 'allowed';
  }

  /** Forgets sources idle for a second: their bucket is full again, as if never seen. */
  private sweep(now: number): void {
    this.lastSweepAt = now;
    for (const [key, bucket] of this.buckets) if (now - bucket.lastAt >= SWEEP_INTERVAL) this.buckets.delete(key);
  }
}

/** True for ::ffff:a.b.c.d, an IPv4 address in IPv6 form. */
function isV4Mapped(address: Uint8Array, length: number): boolean {
  if (length !== 16) return false;
  for (let i = 0; i < 10; i++) if (address[i] !== 0) return false;
  return address[10] === 0xff && address[11] === 0xff;
}

/**
 * The table key of a source, the first `length` bytes of `address`: its IPv4 address as a number
 * (mapped or not), or its IPv6 /64 as text.
 */
function sourceKey(address: Uint8Array, length: number): number | string {
  if (length === 4 || isV4Mapped(address, length)) {
    const at = length - 4;
    return (
      (((address[at] as number) << 24) |
        ((address[at + 1] as number) << 16) |
        ((address[at + 2] as number) << 8) |
        (address[at + 3] as number)) >>>
      0
    );
  }
  let key = '';
  for (let i = 0; i < 8; i++) key += String.fromCharCode(address[i] as number);
  return key;
}
