// DarwinTun: the Tun contract over tun-core's fd-readiness loop on a utun socket, with the 4-byte
// address-family header added and stripped natively (tun-core's NativeTun does the waiting and
// backpressure). This file adds the loop's own counters.

import { type NativeBatchDevice, NativeTun, type TunStats } from '@tunkit/tun-core';

export interface DarwinTunStats extends TunStats {
  /** Packets the kernel refused at first (utun's ENOSPC, EAGAIN) and the device held, then wrote or dropped (txDropped). */
  txDeferred: number;
  /** Datagrams read that were not packets (too short, unknown address family, over the MTU); also in rxDropped. */
  rxInvalid: number;
}

/** Numbers in the native stats: the 7 TunQueueStats fields, txDeferred, rxInvalid. */
const STATS_STRIDE = 9;

export class DarwinTun extends NativeTun {
  /** @internal Use openTun() or fromFd(). */
  constructor(device: NativeBatchDevice, name: string, mtu: number) {
    super(device, { name, mtu, statsStride: STATS_STRIDE });
  }

  override stats(): DarwinTunStats {
    let txDeferred = 0;
    let rxInvalid = 0;
    const queues = this.queueStats((raw, at) => {
      txDeferred += raw[at + 7] as number;
      rxInvalid += raw[at + 8] as number;
    });
    return { ...this.totals(queues), txDeferred, rxInvalid };
  }
}
