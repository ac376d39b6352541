// BatchChannel: the bounded multi-producer, single-consumer queue with batch receive.
// Same semantics as the header-only C++ channel in native/include/tunkit/batch_channel.hh:
// FIFO, bounded (a full channel refuses and counts), one consumer wake-up per
// empty→non-empty transition (not one per item), close wakes every waiter, and an item
// once accepted is never lost (the consumer drains it even after close).

import { TunClosedError, TunConfigError, TunError } from './errors.js';

export interface BatchChannelStats {
  /** Items accepted by `send`. */
  accepted: number;
  /** `send` calls refused because the channel was full. */
  refused: number;
  /** Times a waiting consumer was woken (at most one per empty→non-empty transition). */
  wakeups: number;
}

/**
 * A bounded FIFO of `T`. Producers call `send` (never blocks; false when full) and
 * `sendReady`; the single consumer calls `recvMany`, `readable`, `tryRecv` or `tryRecvMany`.
 */
export class BatchChannel<T> {
  readonly capacity: number;
  private readonly ring: (T | undefined)[];
  private head = 0;
  private count = 0;
  private isClosed = false;
  private consumerWake: ((readable: boolean) => void) | undefined;
  private spaceWaiters: (() => void)[] = [];
  private readonly counters: BatchChannelStats = { accepted: 0, refused: 0, wakeups: 0 };

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 24) {
      throw new TunConfigError(
        'ERR_TUN_CHANNEL_CAPACITY',
        `BatchChannel capacity must be an integer in 1..${1 << 24}, got ${capacity}`,
      );
    }
    this.capacity = capacity;
    this.ring = new Array<T | undefined>(capacity);
  }

  /** Items queued now. */
  get length(): number {
    return this.count;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** True when `send` would refuse. */
  get full(): boolean {
    return this.count >= this.capacity;
  }

  /**
   * Appends `item`. Returns false, taking nothing, when the channel is full (counted in `refused`).
   * Throws TunClosedError after `close()`.
   */
  send(item: T): boolean {
    if (this.isClosed) throw new TunClosedError('channel');
    if (this.count >= this.capacity) {
      this.counters.refused++;
      return false;
    }
    this.ring[(this.head + this.count) % this.capacity] = item;
    this.count++;
    this.counters.accepted++;
    const wake = this.consumerWake;
    if (wake !== undefined) {
      // The empty→non-empty transition while the consumer waits: wake it once; later sends
      // before it runs only enqueue.
      this.consumerWake = undefined;
      this.counters.wakeups++;
      wake(true);
    }
    return true;
  }

  /** Resolves when `send` can take an item (at once if it can now), or once the channel is closed. */
  sendReady(): Promise<void> {
    if (this.isClosed || this.count < this.capacity) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  /**
   * Resolves true once at least one item is queued (at once if one is), false once the channel
   * is closed and empty. Only one wait may be pending (single consumer).
   */
  readable(): Promise<boolean> {
    if (this.count > 0) return Promise.resolve(true);
    if (this.isClosed) return Promise.resolve(false);
    if (this.consumerWake !== undefined) {
      return Promise.reject(
        new TunError('ERR_TUN_RECV_PENDING', 'BatchChannel has a single consumer: a receive is already pending'),
      );
    }
    return new Promise((resolve) => {
      this.consumerWake = resolve;
    });
  }

  /** The oldest item without removing it, or undefined when empty. */
  peek(): T | undefined {
    return this.count > 0 ? this.ring[this.head] : undefined;
  }

  /** Removes and returns the oldest item, or undefined when empty. */
  tryRecv(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.ring[this.head];
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    this.releaseSpace();
    return item;
  }

  /** Moves up to `max` items into `out` (appending) without waiting; returns how many. */
  tryRecvMany(out: T[], max: number): number {
    const n = Math.min(max, this.count);
    for (let i = 0; i < n; i++) {
      out.push(this.ring[this.head] as T);
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
    }
    this.count -= n;
    if (n > 0) this.releaseSpace();
    return n;
  }

  /**
   * Waits until at least one item is queued, then moves up to `max` of them into `out` (appending).
   * Resolves with the count; 0 means closed and drained. One promise per batch.
   */
  async recvMany(out: T[], max: number): Promise<number> {
    if (!Number.isInteger(max) || max < 1) {
      throw new TunConfigError('ERR_TUN_RECV_MAX', `recvMany max must be a positive integer, got ${max}`);
    }
    if (this.count === 0 && !(await this.readable())) return 0;
    return this.tryRecvMany(out, max);
  }

  /**
   * Closes the channel: later `send` calls throw; items already accepted stay receivable; a
   * waiting consumer and every `sendReady` waiter are woken. Idempotent.
   */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const wake = this.consumerWake;
    this.consumerWake = undefined;
    wake?.(this.count > 0);
    this.wakeAllSpaceWaiters();
  }

  /**
   * Closes and discards everything queued (for a device's close, where queued packets are
   * dropped). Returns how many items were discarded.
   */
  closeAndDiscard(): number {
    const discarded = this.count;
    this.ring.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.close();
    return discarded;
  }

  stats(): BatchChannelStats {
    return { ...this.counters };
  }

  private releaseSpace(): void {
    if (this.spaceWaiters.length > 0 && this.count < this.capacity) this.wakeAllSpaceWaiters();
  }

  private wakeAllSpaceWaiters(): void {
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
