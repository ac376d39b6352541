// LinuxTun: the Tun contract over the native multi-queue device (tun-core's NativeTun does the
// waiting and backpressure). recvMany drains a whole batch in one N-API call; send/sendMany queue
// to the queue thread chosen by the packet's symmetric flow hash, so one flow is always written
// by one thread, in order. This file adds what only Linux has: queues, offload, kernel counters.

import { NativeTun, type TunStats } from '@tunkit/tun-core';
import { type NativeTunDevice, native } from './native.js';

export interface LinuxTunStats extends TunStats {
  /** The kernel's tx_dropped for the interface: packets the kernel dropped because we did not read them in time. */
  kernelTxDropped: number;
  /** Reads and writes on the fds: fewer than packets when offload carries super-packets. */
  rxFrames: number;
  txFrames: number;
  /** True once the kernel refused a coalesced super-packet: writes go one packet per frame since. */
  coalescingRefused: boolean;
}

/** What the kernel accepted for this device: see LinuxTunOptions.offload. */
export interface LinuxTunOffload {
  /** Frames carry a virtio-net header. */
  vnetHeader: boolean;
  /** TCP super-packets (TSO) both ways. */
  tso: boolean;
  /** UDP super-packets (USO, Linux 6.2+) both ways. */
  uso: boolean;
}

/** Numbers per queue in the native stats: the 7 TunQueueStats fields, rxFrames, txFrames, coalescing refused. */
const STATS_STRIDE = 10;

export class LinuxTun extends NativeTun {
  readonly queueCount: number;
  readonly offload: LinuxTunOffload;
  private lastKernelTxDropped = 0;

  /** @internal Use openTun(). */
  constructor(device: NativeTunDevice, mtu: number, queueCount: number) {
    super(device, { name: device.name, mtu, statsStride: STATS_STRIDE });
    this.queueCount = queueCount;
    this.offload = { ...device.offload };
  }

  override stats(): LinuxTunStats {
    let rxFrames = 0;
    let txFrames = 0;
    let coalescingRefused = false;
    const queues = this.queueStats((raw, at) => {
      rxFrames += raw[at + 7] as number;
      txFrames += raw[at + 8] as number;
      if (raw[at + 9]) coalescingRefused = true;
    });
    return { ...this.totals(queues), kernelTxDropped: this.kernelTxDropped(), rxFrames, txFrames, coalescingRefused };
  }

  private kernelTxDropped(): number {
    if (this.closed) return this.lastKernelTxDropped;
    try {
      // Over rtnetlink, not /sys: sysfs shows the namespace it was mounted in, not ours.
      const n = native();
      this.lastKernelTxDropped = n.getLink(n.linkIndex(this.name)).txDropped;
    } catch {
      // the interface is gone
    }
    return this.lastKernelTxDropped;
  }
}
