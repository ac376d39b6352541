// FdTun: the JS half of tun-core's FdDevice (native/include/tunkit/fd_device_object.hh), the
// Tun contract over the fd-readiness loop that tun-darwin (utun) and tun-android (the VpnService
// fd) both register. NativeTun does the waiting and backpressure; this adds the loop's own
// counters, and the checks of the options that shape its write queue.

import { type NativeBatchDevice, NativeTun, QUEUE_STAT_FIELDS } from './native-tun.js';
import type { TunStats } from './tun.js';
import { checkIntegerOption } from './tun-helpers.js';

export interface FdTunStats extends TunStats {
  /** Packets the kernel refused at first (ENOSPC, EAGAIN) and the device held, then wrote or dropped (txDropped). */
  txDeferred: number;
  /** Datagrams read that were not packets the device could deliver (empty, too short, over the MTU); also in rxDropped. */
  rxInvalid: number;
}

/** Numbers in FdDevice's stats: the 7 TunQueueStats fields, txDeferred, rxInvalid. */
const STATS_STRIDE = QUEUE_STAT_FIELDS + 2;

export class FdTun extends NativeTun {
  /** @internal A platform package's openTun() or fromFd() makes it. */
  constructor(device: NativeBatchDevice, name: string, mtu: number) {
    super(device, { name, mtu, statsStride: STATS_STRIDE });
  }

  override stats(): FdTunStats {
    let txDeferred = 0;
    let rxInvalid = 0;
    const queues = this.queueStats(undefined, (raw, at) => {
      txDeferred += raw[at + QUEUE_STAT_FIELDS] as number;
      rxInvalid += raw[at + QUEUE_STAT_FIELDS + 1] as number;
    });
    return { ...this.totals(queues), txDeferred, rxInvalid };
  }
}

/** How an FdDevice holds writes the kernel refuses for now (ENOSPC, EAGAIN). */
export interface FdWriteQueueOptions {
  /** Outbound packets held while the kernel refuses writes (default 128): `send` returns false beyond this. */
  pendingPackets?: number;
  /** Milliseconds between retries of held packets (default 1): utun signals no readiness for ENOSPC. */
  retryIntervalMs?: number;
  /** Milliseconds held packets may wait with none written before they are dropped and counted (default 2000). */
  stallBudgetMs?: number;
}

export interface ValidatedFdWriteQueue {
  pendingPackets: number;
  retryIntervalMs: number;
  stallBudgetMs: number;
}

/** The write-queue options with their defaults, or a TunConfigError (ERR_TUN_OPTION) naming the bad one. */
export function checkFdWriteQueue(options: FdWriteQueueOptions): ValidatedFdWriteQueue {
  return {
    pendingPackets: checkIntegerOption('pendingPackets', options.pendingPackets, 1, 65536, 128, 'ERR_TUN_OPTION'),
    retryIntervalMs: checkIntegerOption('retryIntervalMs', options.retryIntervalMs, 1, 1000, 1, 'ERR_TUN_OPTION'),
    stallBudgetMs: checkIntegerOption('stallBudgetMs', options.stallBudgetMs, 1, 600_000, 2000, 'ERR_TUN_OPTION'),
  };
}
