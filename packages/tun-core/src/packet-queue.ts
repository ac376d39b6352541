// PacketQueue: a bounded FIFO of packets held in one preallocated slab (no allocation per
// packet), with a tag per packet (a UDP endpoint, say), batch drain into a PacketBatch, and the
// BatchChannel's waiting semantics. MemoryTun's inbound side and in-memory/dgram UDP binds use it.

import { BatchChannel } from './batch-channel.js';
import { TunConfigError } from './errors.js';
import type { PacketBatch } from './packet-batch.js';

export interface PacketQueueOptions {
  /** Packets held at most (1..65536). */
  capacity: number;
  /** Largest packet accepted, in bytes (1..65535); each slot has this size. */
  slotSize: number;
}

export class PacketQueue<Tag = undefined> {
  readonly capacity: number;
  readonly slotSize: number;
  private readonly channel: BatchChannel<number>;
  private readonly slab: Uint8Array;
  private readonly lengths: Uint32Array;
  private readonly tags: (Tag | undefined)[];
  private nextSlot = 0;

  constructor(options: PacketQueueOptions) {
    const { capacity, slotSize } = options;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 65536) {
      throw new TunConfigError('ERR_TUN_CAPACITY', `queue capacity must be an integer in 1..65536, got ${capacity}`);
    }
    if (!Number.isInteger(slotSize) || slotSize < 1 || slotSize > 65535) {
      throw new TunConfigError('ERR_TUN_SLOT_SIZE', `queue slot size must be an integer in 1..65535, got ${slotSize}`);
    }
    this.capacity = capacity;
    this.slotSize = slotSize;
    this.channel = new BatchChannel<number>(capacity);
    this.slab = new Uint8Array(capacity * slotSize);
    this.lengths = new Uint32Array(capacity);
    this.tags = new Array<Tag | undefined>(capacity);
  }

  get length(): number {
    return this.channel.length;
  }

  get full(): boolean {
    return this.channel.full;
  }

  get closed(): boolean {
    return this.channel.closed;
  }

  /**
   * Copies `packet` in. False when full (nothing taken). A packet larger than `slotSize` is a
   * caller bug: it throws RangeError. Throws TunClosedError after close.
   */
  push(packet: Uint8Array, tag?: Tag): boolean {
    if (packet.length > this.slotSize) {
      throw new RangeError(`a ${packet.length}-byte packet does not fit this queue's ${this.slotSize}-byte slots`);
    }
    if (this.channel.closed) return this.channel.send(0); // throws TunClosedError
    if (this.channel.full) return this.channel.send(0); // counts the refusal, returns false
    // Slots are used in FIFO order and at most `capacity` are in flight, so the next slot is free.
    const slot = this.nextSlot;
    this.nextSlot = (slot + 1) % this.capacity;
    this.slab.set(packet, slot * this.slotSize);
    this.lengths[slot] = packet.length;
    this.tags[slot] = tag;
    return this.channel.send(slot);
  }

  /** Resolves true once a packet is queued, false once closed and empty (single consumer). */
  readable(): Promise<boolean> {
    return this.channel.readable();
  }

  /** Resolves when `push` can take a packet, or once closed. */
  spaceReady(): Promise<void> {
    return this.channel.sendReady();
  }

  /**
   * Moves queued packets into `batch` (appending) until it is full or the queue is empty; the
   * tag of each goes to `tags[batch index]` when `tags` is given. Returns how many moved.
   */
  drainInto(batch: PacketBatch, tags?: (Tag | undefined)[]): number {
    let moved = 0;
    for (;;) {
      const slot = this.channel.peek();
      if (slot === undefined) break;
      const length = this.lengths[slot] as number;
      const index = batch.length;
      const at = batch.reserveAt(length);
      if (at < 0) break;
      const from = slot * this.slotSize;
      batch.buffer.set(this.slab.subarray(from, from + length), at);
      if (tags !== undefined) tags[index] = this.tags[slot];
      this.tags[slot] = undefined;
      this.channel.tryRecv();
      moved++;
    }
    return moved;
  }

  /** Closes: later pushes throw, a waiting consumer wakes; packets queued are kept. */
  close(): void {
    this.channel.close();
  }

  /** Closes and discards what is queued; returns how many packets were discarded. */
  closeAndDiscard(): number {
    this.tags.fill(undefined);
    return this.channel.closeAndDiscard();
  }

  /** Pushes refused because the queue was full. */
  get refused(): number {
    return this.channel.stats().refused;
  }
}
