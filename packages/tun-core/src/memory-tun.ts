// MemoryTun: two connected in-memory devices honouring the full Tun contract, backpressure
// included, so protocol and app tests run without privileges (wireguard-go's tuntest idea).
// Each side's inbound queue is a preallocated slab of `capacity` MTU-sized slots; packets are
// copied once on send and once into the receiver's PacketBatch, with no allocation per packet.

import { BatchChannel } from './batch-channel.js';
import { TunClosedError, TunConfigError, TunError } from './errors.js';
import { checkPacket } from './ip.js';
import type { PacketBatch } from './packet-batch.js';
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
  private readonly inbound: BatchChannel<number>;
  private readonly slab: Uint8Array;
  private readonly slotLengths: Uint32Array;
  private nextSlot = 0;
  private recvPending = false;
  private isClosed = false;
  private txRefused = 0;
  private readonly counters = emptyQueueStats();

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
    this.inbound = new BatchChannel<number>(capacity);
    this.slab = new Uint8Array(capacity * mtu);
    this.slotLengths = new Uint32Array(capacity);
  }

  get closed(): boolean {
    return this.isClosed;
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
      return this.moveInto(batch);
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
    return this.peer.inbound.sendReady();
  }

  stats(): TunStats {
    return sumQueueStats([this.counters], this.txRefused);
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    // Packets still queued towards us are discarded, counted on our receive side.
    this.counters.rxDropped += this.inbound.closeAndDiscard();
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
    const slot = target.nextSlot;
    target.nextSlot = (slot + 1) % target.inbound.capacity;
    target.slab.set(packet, slot * target.mtu);
    target.slotLengths[slot] = packet.length;
    target.inbound.send(slot);
    this.counters.txPackets++;
    this.counters.txBytes += packet.length;
    return true;
  }

  /** Moves queued packets into `batch` until it is full or the queue is empty. */
  private moveInto(batch: PacketBatch): number {
    let moved = 0;
    for (;;) {
      const slot = this.inbound.peek();
      if (slot === undefined) break;
      const length = this.slotLengths[slot] as number;
      const view = batch.reserve(length);
      if (view === undefined) break;
      const from = slot * this.mtu;
      view.set(this.slab.subarray(from, from + length));
      this.inbound.tryRecv();
      this.counters.rxPackets++;
      this.counters.rxBytes += length;
      moved++;
    }
    return moved;
  }
}
