// NativeTun: the JS half of every native device (Linux queue threads, the WinTun receive thread,
// the utun / Android fd-readiness loop). Each addon exposes the same small batch-shaped object
// (NativeBatchDevice); this class turns it into the Tun contract, so the waiting, backpressure
// and close rules are written once and every platform behaves alike.

import { TunClosedError, TunError, TunOsError } from './errors.js';
import { checkPacket, checkPacketAt } from './ip.js';
import { type NativeOsErrorFields, nativeError } from './native-addon.js';
import type { PacketBatch } from './packet-batch.js';
import type { Tun, TunQueueStats, TunStats } from './tun.js';
import { checkRecvBatch, sumQueueStats, tunBatches } from './tun-helpers.js';

/**
 * What an addon's device object provides. Every method runs on the JS thread; none blocks.
 * The addon calls the `onWake` function it was given (on the JS thread, coalesced: at most once
 * per batch of events) when `drain` may return packets again, when space freed after `hasSpace`
 * returned false, when the device ended by itself (see `endedBy`), and at close.
 */
export interface NativeBatchDevice {
  /**
   * Moves packets into the batch memory, appending by the PacketBatch layout rule, and returns
   * how many. `meta` is [capacity, byteCapacity, headroom, tailroom, length, bytesUsed]; the
   * addon updates length and bytesUsed. Returning 0 arms the wake-up for the next packet.
   */
  drain(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, meta: Uint32Array): number;
  /** Queues one (already validated) packet; false when full (the wake-up is then armed by hasSpace). */
  send(packet: Uint8Array): boolean;
  /** Queues batch packets [start, end) in order, stopping at the first refusal; returns how many. */
  sendMany(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, start: number, end: number): number;
  /** True when `send` can take a packet now; when false, arms a wake-up for when space frees. */
  hasSpace(): boolean;
  /** Per queue: the QUEUE_STAT_FIELDS counters of TunQueueStats in order, then platform fields. */
  stats(): Float64Array;
  /** Stops the device's threads or watchers and releases its fds and handles. Idempotent. */
  close(): void;
  /**
   * Undefined while the device runs; once it ended by itself (the interface deleted, the adapter
   * removed, the fd dead), an Error whose `errno` and `syscall` say what the OS reported. The
   * addon maps its platform's signal to this at its edge, then wakes JS even when no wake-up was
   * armed, and NativeTun closes the device on that wake-up. Until then a send may still be taken
   * (then dropped and counted); the addon must never make a producer spin (refuse while
   * `hasSpace` says true). Stays readable after `close()`.
   */
  readonly endedBy: (Error & NativeOsErrorFields) | undefined;
}

/** rxPackets, rxBytes, txPackets, txBytes, rxDropped, txDropped, rxStalls: the first fields of each stats row. */
export const QUEUE_STAT_FIELDS = 7;

/** One row of a native stats array as TunQueueStats. */
export function queueStatsAt(raw: Float64Array, at: number): TunQueueStats {
  return {
    rxPackets: raw[at] as number,
    rxBytes: raw[at + 1] as number,
    txPackets: raw[at + 2] as number,
    txBytes: raw[at + 3] as number,
    rxDropped: raw[at + 4] as number,
    txDropped: raw[at + 5] as number,
    rxStalls: raw[at + 6] as number,
  };
}

export interface NativeTunOptions {
  name: string;
  mtu: number;
  /** Numbers per queue in `device.stats()` (≥ QUEUE_STAT_FIELDS). */
  statsStride?: number;
}

/**
 * The Tun contract over a NativeBatchDevice. Construct the device with `(…, () => tun.onWake())`
 * and then the NativeTun around it (see tun-linux's openTun for the pattern).
 */
export class NativeTun implements Tun {
  readonly name: string;
  readonly mtu: number;
  protected readonly device: NativeBatchDevice;
  private readonly statsStride: number;
  private isClosed = false;
  private endReason: TunOsError | undefined;
  private recvPending = false;
  private recvWaiter: (() => void) | undefined;
  private spaceWaiters: (() => void)[] = [];
  private txRefused = 0;
  /** [capacity, byteCapacity, headroom, tailroom, length, bytesUsed], reused for every drain. */
  private readonly meta = new Uint32Array(6);

  constructor(device: NativeBatchDevice, options: NativeTunOptions) {
    this.device = device;
    this.name = options.name;
    this.mtu = options.mtu;
    this.statsStride = options.statsStride ?? QUEUE_STAT_FIELDS;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get endedBy(): TunOsError | undefined {
    return this.endReason;
  }

  /** @internal Called by the addon (on the JS thread) once per batch of events. */
  readonly onWake = (): void => {
    if (!this.isClosed) {
      const endedBy = this.device.endedBy;
      if (endedBy !== undefined) {
        this.end(endedBy);
        return;
      }
    }
    const waiter = this.recvWaiter;
    this.recvWaiter = undefined;
    waiter?.();
    if (this.spaceWaiters.length > 0 && (this.isClosed || this.device.hasSpace())) this.releaseSpaceWaiters();
  };

  async recvMany(batch: PacketBatch): Promise<number> {
    checkRecvBatch(batch, this.mtu);
    if (this.recvPending) {
      throw new TunError('ERR_TUN_RECV_PENDING', `recvMany is already pending on ${this.name}: one consumer at a time`);
    }
    if (this.isClosed) return 0;
    batch.clear();
    let n = this.drain(batch);
    if (n > 0) return n;
    this.recvPending = true;
    try {
      for (;;) {
        await new Promise<void>((resolve) => {
          this.recvWaiter = resolve;
        });
        if (this.isClosed) return 0;
        n = this.drain(batch);
        if (n > 0) return n;
      }
    } finally {
      this.recvPending = false;
    }
  }

  private drain(batch: PacketBatch): number {
    const meta = this.meta;
    meta[0] = batch.capacity;
    meta[1] = batch.byteCapacity;
    meta[2] = batch.headroom;
    meta[3] = batch.tailroom;
    meta[4] = batch.length;
    meta[5] = batch.bytesUsed;
    const n = this.device.drain(batch.buffer, batch.offsets, batch.lengths, meta);
    batch.length = meta[4] as number;
    batch.bytesUsed = meta[5] as number;
    return n;
  }

  send(packet: Uint8Array): boolean {
    if (this.isClosed) throw new TunClosedError(`device ${this.name}`);
    checkPacket(packet, this.mtu);
    if (this.device.send(packet)) return true;
    this.txRefused++;
    return false;
  }

  sendMany(batch: PacketBatch, start = 0): number {
    if (this.isClosed) throw new TunClosedError(`device ${this.name}`);
    let end = start;
    let invalid: unknown;
    for (; end < batch.length; end++) {
      try {
        checkPacketAt(batch.buffer, batch.offsets[end] as number, batch.lengths[end] as number, this.mtu);
      } catch (error) {
        invalid = error;
        break;
      }
    }
    // The valid packets before a bad one are sent; then the bad one throws.
    const taken = end > start ? this.device.sendMany(batch.buffer, batch.offsets, batch.lengths, start, end) : 0;
    if (taken < end - start) {
      this.txRefused++;
      return taken;
    }
    if (invalid !== undefined) throw invalid;
    return taken;
  }

  sendReady(): Promise<void> {
    if (this.isClosed || this.device.hasSpace()) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  stats(): TunStats {
    return this.totals(this.queueStats());
  }

  /** The device totals over `queues`, with this device's refused sends. */
  protected totals(queues: readonly TunQueueStats[]): TunStats {
    return sumQueueStats(queues, this.txRefused);
  }

  /**
   * Per-queue counters from one `device.stats()` snapshot (pass `raw` when the subclass also reads
   * device-wide fields from it); `row(raw, at)` is called with each row's offset for platform fields.
   */
  protected queueStats(raw = this.device.stats(), row?: (raw: Float64Array, at: number) => void): TunQueueStats[] {
    const queues: TunQueueStats[] = [];
    for (let at = 0; at + this.statsStride <= raw.length; at += this.statsStride) {
      queues.push(queueStatsAt(raw, at));
      row?.(raw, at);
    }
    return queues;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.device.close();
    const waiter = this.recvWaiter;
    this.recvWaiter = undefined;
    waiter?.();
    this.releaseSpaceWaiters();
  }

  [Symbol.asyncIterator](): AsyncIterator<PacketBatch> {
    return tunBatches(this);
  }

  /**
   * The device ended by itself (tun.ts, "Ends by itself"): keep why, then close exactly as
   * close() does, through the subclass's close() too (its own bookkeeping runs the same way).
   */
  private end(reason: Error & NativeOsErrorFields): void {
    const error = nativeError(reason);
    this.endReason =
      error instanceof TunOsError
        ? error
        : new TunOsError('EUNKNOWN', 'unknown', `device ${this.name} ended: ${reason.message}`, { cause: reason });
    void this.close();
  }

  private releaseSpaceWaiters(): void {
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
