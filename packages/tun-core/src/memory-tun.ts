// MemoryTun: two connected in-memory devices honouring the full Tun contract, backpressure
// included, so protocol and app tests run without privileges (wireguard-go's tuntest idea).
// Each side's inbound queue is a PacketQueue (one preallocated slab of MTU-sized slots); packets are
// copied once on send and once into the receiver's PacketBatch, with no allocation per packet.
// endByItself() plays the OS removing a device, so the "ends by itself" rule is tested here too.

import { TunClosedError, TunConfigError, TunError, TunOsError } from './errors.js';
import { checkPacket } from './ip.js';
import type { PacketBatch } from './packet-batch.js';
import { PacketQueue } from './packet-queue.js';
import type { Tun, TunStats } from './tun.js';
import { checkMtu, checkRecvBatch, emptyQueueStats, sumQueueStats, tunBatches } from './tun-helpers.js';

export interface MemoryTunPairOptions {
  /** MTU of both devices (default 1420). */
  mtu?: number;
  /** Packets each direction holds before `send` returns false (default 256). */
  capacity?: number;
  /** Interface names (default "mem0" and "mem1"). */
  names?: [string, string];
}

let pairCount = 0;

export class MemoryTun implements Tun {
  readonly name: string;
  readonly mtu: number;
  private peer!: MemoryTun;
  private readonly inbound: PacketQueue;
  private recvPending = false;
  private isClosed = false;
  private endReason: TunOsError | undefined;
  private txRefused = 0;
  private readonly counters = emptyQueueStats();
  /** sendReady callers waiting for the peer to drain; released by our own close too. */
  private readonly spaceWaiters = new Set<() => void>();

  /** Two devices wired back to back: what one sends, the other receives. */
  static pair(options: MemoryTunPairOptions = {}): [MemoryTun, MemoryTun] {
    const mtu = checkMtu(options.mtu);
    const capacity = options.capacity ?? 256;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 65536) {
      throw new TunConfigError(
        'ERR_TUN_CAPACITY',
        `MemoryTun capacity must be an integer in 1..65536, got ${capacity}`,
      );
    }
    const n = pairCount++;
    const [nameA, nameB] = options.names ?? [`mem${2 * n}`, `mem${2 * n + 1}`];
    const a = new MemoryTun(nameA, mtu, capacity);
    const b = new MemoryTun(nameB, mtu, capacity);
    a.peer = b;
    b.peer = a;
    return [a, b];
  }

  private constructor(name: string, mtu: number, capacity: number) {
    this.name = name;
    this.mtu = mtu;
    this.inbound = new PacketQueue({ capacity, slotSize: mtu });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get endedBy(): TunOsError | undefined {
    return this.endReason;
  }

  /**
   * For tests: this side ends by itself, as a device does when the OS removes it (tun.ts, "Ends by
   * itself"): it closes itself and `endedBy` holds `reason`. Does nothing once closed. The peer
   * stays open; what it sends from then on is dropped and counted, as after a close.
   */
  endByItself(reason = new TunOsError('ENODEV', 'memory', `the memory device ${this.name} was removed`)): void {
    if (this.isClosed) return;
    this.endReason = reason;
    void this.close();
  }

  async recvMany(batch: PacketBatch): Promise<number> {
    checkRecvBatch(batch, this.mtu);
    if (this.recvPending) {
      throw new TunError('ERR_TUN_RECV_PENDING', `recvMany is already pending on ${this.name}: one consumer at a time`);
    }
    if (this.isClosed) return 0;
    this.recvPending = true;
    try {
      if (this.inbound.length === 0) await this.inbound.readable();
      if (this.isClosed) return 0;
      batch.clear();
      const moved = this.inbound.drainInto(batch);
      this.counters.rxPackets += moved;
      for (let i = 0; i < moved; i++) this.counters.rxBytes += batch.lengths[i] as number;
      return moved;
    } finally {
      this.recvPending = false;
    }
  }

  send(packet: Uint8Array): boolean {
    if (this.isClosed) throw new TunClosedError(`device ${this.name}`);
    checkPacket(packet, this.mtu);
    return this.deliver(packet);
  }

  sendMany(batch: PacketBatch, start = 0): number {
    if (this.isClosed) throw new TunClosedError(`device ${this.name}`);
    let taken = 0;
    for (let i = start; i < batch.length; i++) {
      const packet = batch.packet(i);
      checkPacket(packet, this.mtu);
      if (!this.deliver(packet)) break;
      taken++;
    }
    return taken;
  }

  sendReady(): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    // Space frees on the peer's side; our own close must release the waiter too (one promise per wait, not per packet).
    return new Promise((resolve) => {
      const done = () => {
        this.spaceWaiters.delete(done);
        resolve();
      };
      this.spaceWaiters.add(done);
      void this.peer.inbound.spaceReady().then(done);
    });
  }

  stats(): TunStats {
    return sumQueueStats([this.counters], this.txRefused);
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    // Packets still queued towards us are discarded, counted on our receive side.
    this.counters.rxDropped += this.inbound.closeAndDiscard();
    for (const done of [...this.spaceWaiters]) done();
  }

  [Symbol.asyncIterator](): AsyncIterator<PacketBatch> {
    return tunBatches(this);
  }

  /** Copies one packet into the peer's inbound slab. False (not taken) when the peer's queue is full. */
  private deliver(packet: Uint8Array): boolean {
    const target = this.peer;
    if (target.isClosed) {
      // The other end is gone: like a cable pulled, the packet is dropped, and counted.
      this.counters.txDropped++;
      return true;
    }
    if (target.inbound.full) {
      this.txRefused++;
      return false;
    }
    target.inbound.push(packet);
    this.counters.txPackets++;
    this.counters.txBytes += packet.length;
    return true;
  }
}
