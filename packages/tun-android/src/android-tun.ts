// AndroidTun: the Tun contract over tun-core's fd-readiness loop on the VpnService fd (tun-core's
// NativeTun does the waiting and backpressure). This file adds the loop's own counters.

import { type NativeBatchDevice, NativeTun, type TunStats } from '@tunkit/tun-core';

export interface AndroidTunStats extends TunStats {
  /** Packets the kernel refused at first and the device held, then wrote (or dropped, counted in txDropped). */
  txDeferred: number;
  /** Datagrams read that were not packets the device could deliver (empty, over the MTU); also in rxDropped. */
  rxInvalid: number;
}

/** Numbers in the native stats: the 7 TunQueueStats fields, txDeferred, rxInvalid. */
const STATS_STRIDE = 9;

export class AndroidTun extends NativeTun {
  /** @internal Use fromFd(). */
  constructor(device: NativeBatchDevice, name: string, mtu: number) {
    super(device, { name, mtu, statsStride: STATS_STRIDE });
  }

  override stats(): AndroidTunStats {
    let txDeferred = 0;
    let rxInvalid = 0;
    const queues = this.queueStats((raw, at) => {
      txDeferred += raw[at + 7] as number;
      rxInvalid += raw[at + 8] as number;
    });
    return { ...this.totals(queues), txDeferred, rxInvalid };
  }
}
