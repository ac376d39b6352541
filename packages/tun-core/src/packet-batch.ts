// PacketBatch: many packets in one contiguous buffer plus an offsets/lengths table, so native
// code can fill or drain a whole batch in one call, and JS reads and writes packets by offset
// (reserveAt, offsets/lengths) with no allocation per packet, or as views where that is fine. Optional headroom before and tailroom after each packet let a
// protocol layer add a header and trailer in place (wireguard-go's `offset` idea).

import { TunConfigError, TunPacketError } from './errors.js';

/** Largest IP packet (IPv4 total length / IPv6 payload length field is 16 bits). */
export const MAX_PACKET_SIZE = 65535;
/** Default number of packets per batch: the reference design's batch size. */
export const DEFAULT_BATCH_CAPACITY = 100;

export interface PacketBatchOptions {
  /** Maximum number of packets (default 100). */
  capacity?: number;
  /** Bytes reserved before each packet (default 0). */
  headroom?: number;
  /** Bytes reserved after each packet (default 0). */
  tailroom?: number;
  /**
   * Total bytes of packet space, headroom and tailroom included. Default: room for `capacity`
   * packets of 2048 bytes, and never less than one 64 KiB packet.
   */
  byteCapacity?: number;
}

function positiveInt(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new TunConfigError(
      'ERR_TUN_BATCH_OPTION',
      `PacketBatch ${name} must be an integer in 0..${max}, got ${value}`,
    );
  }
  return value;
}

/**
 * A reusable batch of packets. Packet `i` occupies `buffer[offsets[i] .. offsets[i] + lengths[i])`,
 * with `headroom` free bytes before it and `tailroom` after it. Packets are laid out in order,
 * each region aligned to 8 bytes. Views returned by `packet(i)` are valid until `clear()`.
 */
export class PacketBatch {
  readonly buffer: Uint8Array;
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  readonly capacity: number;
  readonly byteCapacity: number;
  readonly headroom: number;
  readonly tailroom: number;
  /** Number of packets currently held. */
  length = 0;
  /** Bytes of `buffer` used so far (end of the last packet's tailroom, 8-aligned). */
  bytesUsed = 0;

  constructor(options: PacketBatchOptions = {}) {
    this.capacity = positiveInt('capacity', options.capacity ?? DEFAULT_BATCH_CAPACITY, 1 << 20);
    if (this.capacity === 0) {
      throw new TunConfigError('ERR_TUN_BATCH_OPTION', 'PacketBatch capacity must be at least 1, got 0');
    }
    this.headroom = positiveInt('headroom', options.headroom ?? 0, 4096);
    this.tailroom = positiveInt('tailroom', options.tailroom ?? 0, 4096);
    const oneBig = align8(this.headroom + MAX_PACKET_SIZE + this.tailroom);
    const byDefault = Math.max(this.capacity * align8(this.headroom + 2048 + this.tailroom), oneBig);
    this.byteCapacity = positiveInt('byteCapacity', options.byteCapacity ?? byDefault, 1 << 30);
    if (this.byteCapacity < align8(this.headroom + 1 + this.tailroom)) {
      throw new TunConfigError(
        'ERR_TUN_BATCH_OPTION',
        `PacketBatch byteCapacity ${this.byteCapacity} cannot hold even a 1-byte packet with its headroom and tailroom`,
      );
    }
    this.buffer = new Uint8Array(this.byteCapacity);
    this.offsets = new Uint32Array(this.capacity);
    this.lengths = new Uint32Array(this.capacity);
  }

  /** Largest packet that still fits after the packets already held (0 when full). */
  get spaceForNext(): number {
    if (this.length >= this.capacity) return 0;
    return Math.max(0, this.byteCapacity - this.bytesUsed - this.headroom - this.tailroom);
  }

  /** True when no further packet (of any size) can be added. */
  get full(): boolean {
    return this.spaceForNext === 0;
  }

  /** A view of packet `i` (no copy). Throws RangeError for an index outside 0..length-1. */
  packet(i: number): Uint8Array {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`packet index ${i} outside 0..${this.length - 1}`);
    const start = this.offsets[i] as number;
    return this.buffer.subarray(start, start + (this.lengths[i] as number));
  }

  /**
   * Reserves room for a packet of `size` bytes and returns its offset in `buffer`, to be filled by
   * the caller (`buffer[offset .. offset + size)`); -1 when the batch cannot hold it. Makes no
   * view: the form for per-packet paths, which must not allocate.
   */
  reserveAt(size: number): number {
    // The length test first: spaceForNext is 0 for a full batch, which a 0-byte size would pass.
    if (this.length >= this.capacity || size < 0 || size > this.spaceForNext) return -1;
    const start = this.bytesUsed + this.headroom;
    const i = this.length;
    this.offsets[i] = start;
    this.lengths[i] = size;
    this.length = i + 1;
    this.bytesUsed = align8(start + size + this.tailroom);
    return start;
  }

  /**
   * reserveAt, returning a view of the reserved bytes (e.g. for a read to fill); undefined when
   * the batch cannot hold the packet.
   */
  reserve(size: number): Uint8Array | undefined {
    const start = this.reserveAt(size);
    return start < 0 ? undefined : this.buffer.subarray(start, start + size);
  }

  /** Copies `packet` in. Returns false when it does not fit (batch full); throws for an empty or oversize packet. */
  push(packet: Uint8Array): boolean {
    if (packet.length === 0 || packet.length > MAX_PACKET_SIZE) {
      throw new TunPacketError(
        'ERR_TUN_PACKET_SIZE',
        `packet length ${packet.length} is outside 1..${MAX_PACKET_SIZE}`,
      );
    }
    const start = this.reserveAt(packet.length);
    if (start < 0) return false;
    this.buffer.set(packet, start);
    return true;
  }

  /**
   * Sets packet `i`'s length (e.g. after sealing in place grew it into the tailroom). The new
   * length must stay within the packet's region: original length + tailroom.
   */
  setLength(i: number, length: number): void {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`packet index ${i} outside 0..${this.length - 1}`);
    const start = this.offsets[i] as number;
    const limit = (i + 1 < this.length ? (this.offsets[i + 1] as number) - this.headroom : this.bytesUsed) - start;
    if (!Number.isInteger(length) || length < 0 || length > limit) {
      throw new RangeError(`packet ${i} length ${length} outside 0..${limit}`);
    }
    this.lengths[i] = length;
  }

  /** Empties the batch for reuse. Views returned earlier now alias new data. */
  clear(): void {
    this.length = 0;
    this.bytesUsed = 0;
  }

  /** Iterates the packets as views. */
  *[Symbol.iterator](): IterableIterator<Uint8Array> {
    for (let i = 0; i < this.length; i++) yield this.packet(i);
  }
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
