// The bounded queue of handshake work (whitepaper 5.3; wireguard-go's handshake queue): received
// initiations and responses whose MAC1 verified wait here, copied into a fixed slab, until the
// Engine processes them a few at a time (Engine.processHandshakes), so that a flood of them costs
// the data path only the copy. A message that finds the queue full is refused (the caller drops
// and counts it). The queue's depth is also what "under load" is made of (load-gauge.ts): only
// messages with a valid MAC1 get in, so random junk cannot fill it.

import type { Endpoint } from '../bind/bind.js';
import { INITIATION_LENGTH } from './constants.js';

/** Messages held at most (wireguard-go's QueueHandshakeSize): 1,024 × 148 bytes of slab. */
export const HANDSHAKE_QUEUE_CAPACITY = 1024;

export class HandshakeQueue {
  readonly capacity: number;
  /** Slot i holds a message at i × INITIATION_LENGTH (the longest message that is queued). */
  private readonly slab: Uint8Array;
  private readonly lengths: Uint8Array;
  private readonly sources: (Endpoint | undefined)[];
  /** Each slot's last view (messageAt): a flood's messages have one length, so it is made once. */
  private readonly views: (Uint8Array | undefined)[];
  private head = 0;
  private count = 0;

  constructor(capacity = HANDSHAKE_QUEUE_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`handshake queue capacity ${capacity}`);
    this.capacity = capacity;
    this.slab = new Uint8Array(capacity * INITIATION_LENGTH);
    this.lengths = new Uint8Array(capacity);
    this.sources = new Array(capacity).fill(undefined);
    this.views = new Array(capacity).fill(undefined);
  }

  /** Messages waiting. */
  get length(): number {
    return this.count;
  }

  /**
   * Copies the `length`-byte message at `offset` of `buffer` (at most INITIATION_LENGTH bytes),
   * from `source`, to the back of the queue; false when the queue is full.
   */
  push(buffer: Uint8Array, offset: number, length: number, source: Endpoint): boolean {
    if (this.count === this.capacity || length > INITIATION_LENGTH) return false;
    const slot = (this.head + this.count) % this.capacity;
    // Byte by byte: a subarray to copy from would be an object per message of a flood.
    const slab = this.slab;
    const at = slot * INITIATION_LENGTH;
    for (let i = 0; i < length; i++) slab[at + i] = buffer[offset + i] as number;
    this.lengths[slot] = length;
    this.sources[slot] = source;
    this.count++;
    return true;
  }

  /**
   * Takes the oldest message: its slot, or -1 when empty. The slot's message (messageAt) and
   * source (sourceAt) stay valid until the next push.
   */
  shift(): number {
    if (this.count === 0) return -1;
    const slot = this.head;
    this.head = (slot + 1) % this.capacity;
    this.count--;
    return slot;
  }

  messageAt(slot: number): Uint8Array {
    const length = this.lengths[slot] as number;
    const view = this.views[slot];
    if (view !== undefined && view.length === length) return view;
    const at = slot * INITIATION_LENGTH;
    const made = this.slab.subarray(at, at + length);
    this.views[slot] = made;
    return made;
  }

  sourceAt(slot: number): Endpoint {
    return this.sources[slot] as Endpoint;
  }

  /** Empties the queue (the messages are dropped; the caller counts them). Returns how many. */
  clear(): number {
    const dropped = this.count;
    this.head = 0;
    this.count = 0;
    this.sources.fill(undefined);
    return dropped;
  }
}
