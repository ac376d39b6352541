// LinuxTun: the Tun contract over the native multi-queue device. recvMany drains a whole batch in
// one N-API call and waits (one promise) only when the channel is empty; send/sendMany queue to
// the queue thread chosen by the packet's symmetric flow hash, so one flow is always written by
// one thread, in order.

import {
  checkPacket,
  checkPacketAt,
  checkRecvBatch,
  type PacketBatch,
  sumQueueStats,
  type Tun,
  TunClosedError,
  TunError,
  type TunQueueStats,
  type TunStats,
  tunBatches,
} from '@tunkit/tun-core';
import { type NativeTunDevice, native } from './native.js';

export interface LinuxTunStats extends TunStats {
  /** The kernel's tx_dropped for the interface: packets the kernel dropped because we did not read them in time. */
  kernelTxDropped: number;
  /** Reads and writes on the fds: fewer than packets when offload carries super-packets. */
  rxFrames: number;
  txFrames: number;
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

const FIELDS = 9;

export class LinuxTun implements Tun {
  readonly name: string;
  readonly mtu: number;
  readonly queueCount: number;
  readonly offload: LinuxTunOffload;
  private readonly device: NativeTunDevice;
  private isClosed = false;
  private recvPending = false;
  private recvWaiter: (() => void) | undefined;
  private spaceWaiters: (() => void)[] = [];
  private txRefused = 0;
  private lastKernelTxDropped = 0;
  /** [capacity, byteCapacity, headroom, tailroom, length, bytesUsed], reused for every drain. */
  private readonly meta = new Uint32Array(6);

  /** @internal Use openTun(). */
  constructor(device: NativeTunDevice, mtu: number, queueCount: number) {
    this.device = device;
    this.name = device.name;
    this.mtu = mtu;
    this.queueCount = queueCount;
    this.offload = { ...device.offload };
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** @internal Called by the addon (on the JS thread) once per batch of events. */
  readonly onWake = (): void => {
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

  stats(): LinuxTunStats {
    const raw = this.device.stats();
    const queues: TunQueueStats[] = [];
    let rxFrames = 0;
    let txFrames = 0;
    for (let i = 0; i + FIELDS <= raw.length; i += FIELDS) {
      queues.push({
        rxPackets: raw[i] as number,
        rxBytes: raw[i + 1] as number,
        txPackets: raw[i + 2] as number,
        txBytes: raw[i + 3] as number,
        rxDropped: raw[i + 4] as number,
        txDropped: raw[i + 5] as number,
        rxStalls: raw[i + 6] as number,
      });
      rxFrames += raw[i + 7] as number;
      txFrames += raw[i + 8] as number;
    }
    return { ...sumQueueStats(queues, this.txRefused), kernelTxDropped: this.kernelTxDropped(), rxFrames, txFrames };
  }

  private kernelTxDropped(): number {
    if (this.isClosed) return this.lastKernelTxDropped;
    try {
      // Over rtnetlink, not /sys: sysfs shows the namespace it was mounted in, not ours.
      const n = native();
      this.lastKernelTxDropped = n.getLink(n.linkIndex(this.name)).txDropped;
    } catch {
      // the interface is gone
    }
    return this.lastKernelTxDropped;
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

  private releaseSpaceWaiters(): void {
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
