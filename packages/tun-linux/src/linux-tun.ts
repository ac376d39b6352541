// LinuxTun: the Tun contract over the native multi-queue device (tun-core's NativeTun does the
// waiting and backpressure). recvMany drains a whole batch in one N-API call; send/sendMany queue
// to the queue thread chosen by the packet's symmetric flow hash, so one flow is always written
// by one thread, in order. This file adds what only Linux has: queues, offload, kernel counters.
// A device whose interface is removed ends by itself: EBADFD on any queue (native queue_thread.cc)
// is mapped there to tun-core's endedBy, and NativeTun closes the whole device.

import { type NativePacketPort, NativeTun, TunClosedError, type TunStats } from '@tunkit/tun-core';
import { type NativeTunDevice, native } from './native.js';
import { trackOpenDevice, untrackOpenDevice } from './open-devices.js';

export interface LinuxTunStats extends TunStats {
  /** The kernel's tx_dropped for the interface: packets the kernel dropped because we did not read them in time. */
  kernelTxDropped: number;
  /** Reads and writes on the fds: fewer than packets when offload carries super-packets. */
  rxFrames: number;
  txFrames: number;
  /** True once the kernel refused a coalesced super-packet: writes go one packet per frame since. */
  coalescingRefused: boolean;
  /**
   * Reads that failed with an error other than EAGAIN (no packet is known lost: the kernel keeps
   * it). After one, the queue reads again 100 ms later; EBADFD (the interface was removed under
   * us) instead ends the device (tun-core's "Ends by itself": `endedBy` says so).
   */
  rxErrors: number;
  /**
   * Packets read from the device but still waiting for recvMany at close, discarded. Counted in
   * `rxDropped` too, but in no queue's: which queue read each one is not recorded.
   */
  rxDiscardedAtClose: number;
  /** Queue threads that did not stop within 2 s of close() and were abandoned (logged); 0 normally. */
  abandonedThreads: number;
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

/** Numbers per queue in the native stats: the 7 TunQueueStats fields, rxFrames, txFrames, coalescing refused, rxErrors. */
const STATS_STRIDE = 11;

export class LinuxTun extends NativeTun {
  readonly queueCount: number;
  readonly offload: LinuxTunOffload;
  /**
   * The largest MTU the interface can be given while this device is open: the size of its queue
   * slots (2048, or the opening `mtu` when larger). setMtu refuses more.
   */
  readonly maxMtu: number;
  private lastKernelTxDropped = 0;

  /** @internal Use openTun(). */
  constructor(device: NativeTunDevice, mtu: number, queueCount: number) {
    super(device, { name: device.name, mtu, statsStride: STATS_STRIDE });
    this.queueCount = queueCount;
    this.offload = { ...device.offload };
    this.maxMtu = device.maxPacketSize;
    trackOpenDevice(this.name, this);
  }

  override stats(): LinuxTunStats {
    let rxFrames = 0;
    let txFrames = 0;
    let rxErrors = 0;
    let coalescingRefused = false;
    const raw = this.device.stats();
    const queues = this.queueStats(raw, (_, at) => {
      rxFrames += raw[at + 7] as number;
      txFrames += raw[at + 8] as number;
      if (raw[at + 9]) coalescingRefused = true;
      rxErrors += raw[at + 10] as number;
    });
    // After the queue rows: [discarded at close, abandoned threads] for the whole device.
    const rxDiscardedAtClose = raw[raw.length - 2] ?? 0;
    const abandonedThreads = raw[raw.length - 1] ?? 0;
    const totals = this.totals(queues);
    return {
      ...totals,
      rxDropped: totals.rxDropped + rxDiscardedAtClose,
      kernelTxDropped: this.kernelTxDropped(),
      rxFrames,
      txFrames,
      coalescingRefused,
      rxErrors,
      rxDiscardedAtClose,
      abandonedThreads,
    };
  }

  /**
   * The device's packet port (tun-core's Tun.nativePort): a native processor attached through it
   * is offered every batch the queue threads read, and writes packets to the device from its own
   * threads (flow-hashed to a queue, coalesced with offload).
   */
  nativePort(): NativePacketPort {
    if (this.closed) throw new TunClosedError(`device ${this.name}`);
    return (this.device as NativeTunDevice).nativePort() as NativePacketPort;
  }

  override async close(): Promise<void> {
    untrackOpenDevice(this.name, this);
    await super.close();
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
