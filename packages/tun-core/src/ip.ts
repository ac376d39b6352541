// IP packet helpers: version, lengths, protocol, addresses and a symmetric flow hash, for IPv4
// and IPv6. Each reads only after checking the bytes are there: malformed input yields
// `undefined` (or a TunPacketError from `checkPacket`), never an out-of-bounds read.

import { TunPacketError } from './errors.js';

export const IPV4_HEADER_MIN = 20;
export const IPV6_HEADER_LENGTH = 40;

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

// The `...At` readers look at a `length`-byte packet at `offset` inside a larger buffer (a
// PacketBatch's), so per-packet paths read headers in place without making a view per packet.
// The one-packet helpers below are these with offset 0.

/** 4 or 6 when the bytes hold at least that version's fixed header; 0 otherwise. */
export function ipVersionAt(buffer: Uint8Array, offset: number, length: number): 0 | 4 | 6 {
  if (length <= 0) return 0;
  const v = (buffer[offset] as number) >> 4;
  if (v === 4) return length >= IPV4_HEADER_MIN ? 4 : 0;
  if (v === 6) return length >= IPV6_HEADER_LENGTH ? 6 : 0;
  return 0;
}

/**
 * The packet's length from its header (IPv4 total length; IPv6 40 + payload length), or -1 when
 * the header is malformed or claims more than `length` bytes.
 */
export function ipTotalLengthAt(buffer: Uint8Array, offset: number, length: number): number {
  const v = ipVersionAt(buffer, offset, length);
  if (v === 0) return -1;
  let header = IPV6_HEADER_LENGTH;
  let total: number;
  if (v === 4) {
    header = ((buffer[offset] as number) & 0x0f) * 4;
    if (header < IPV4_HEADER_MIN || header > length) return -1;
    total = read16(buffer, offset + 2);
  } else {
    total = IPV6_HEADER_LENGTH + read16(buffer, offset + 4);
  }
  return total < header || total > length ? -1 : total;
}

/** Offset in `buffer` of the source (or destination) address of a packet of version `version`. */
export function ipAddressOffset(offset: number, version: 4 | 6, which: 'source' | 'destination'): number {
  if (version === 4) return offset + (which === 'source' ? 12 : 16);
  return offset + (which === 'source' ? 8 : 24);
}

/** 4 or 6 from the first nibble, or undefined when the packet is too short for its version's header. */
export function ipVersion(packet: Uint8Array): 4 | 6 | undefined {
  return ipVersionAt(packet, 0, packet.length) || undefined;
}

/** Length of the fixed header (IPv4 IHL × 4, with options; IPv6 always 40), or undefined if malformed. */
export function ipHeaderLength(packet: Uint8Array): number | undefined {
  const v = ipVersion(packet);
  if (v === 6) return IPV6_HEADER_LENGTH;
  if (v !== 4) return undefined;
  const ihl = ((packet[0] as number) & 0x0f) * 4;
  return ihl >= IPV4_HEADER_MIN && ihl <= packet.length ? ihl : undefined;
}

/**
 * The packet's length according to its header (IPv4 total length; IPv6 40 + payload length), or
 * undefined when the header is malformed or claims more bytes than `packet` holds.
 */
export function ipTotalLength(packet: Uint8Array): number | undefined {
  const total = ipTotalLengthAt(packet, 0, packet.length);
  return total < 0 ? undefined : total;
}

function read16(bytes: Uint8Array, at: number): number {
  return ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
}

/** IPv6 extension headers that `transportOffset` walks over (RFC 8200 §4). */
const IPV6_EXTENSIONS = new Set([0, 43, 44, 51, 60, 135, 139, 140]);
const MAX_EXTENSIONS = 8;

/** Where a packet's transport header is. */
export interface TransportInfo {
  /** Upper-layer protocol number (TCP 6, UDP 17, ICMP 1, ICMPv6 58, ...). */
  protocol: number;
  /** Byte offset of the transport header. */
  offset: number;
  /** True for a non-first fragment, which carries no transport header. */
  nonFirstFragment: boolean;
}

/**
 * Finds the upper-layer protocol and where its header starts, walking IPv6 extension headers
 * (bounded), writing into `out` (no allocation). Returns false when the packet is malformed.
 */
export function locateTransport(packet: Uint8Array, out: TransportInfo): boolean {
  const v = ipVersion(packet);
  if (v === 4) {
    const header = ipHeaderLength(packet);
    if (header === undefined) return false;
    out.protocol = packet[9] as number;
    out.offset = header;
    out.nonFirstFragment = (read16(packet, 6) & 0x1fff) !== 0;
    return true;
  }
  if (v !== 6) return false;
  let next = packet[6] as number;
  let offset = IPV6_HEADER_LENGTH;
  let nonFirstFragment = false;
  for (let i = 0; i < MAX_EXTENSIONS && IPV6_EXTENSIONS.has(next); i++) {
    if (offset + 8 > packet.length) return false;
    const following = packet[offset] as number;
    let length: number;
    if (next === 44) {
      length = 8;
      nonFirstFragment = (read16(packet, offset + 2) & 0xfff8) !== 0;
    } else if (next === 51) {
      length = ((packet[offset + 1] as number) + 2) * 4; // AH counts 4-byte units
    } else {
      length = ((packet[offset + 1] as number) + 1) * 8;
    }
    offset += length;
    next = following;
  }
  if (IPV6_EXTENSIONS.has(next) || offset > packet.length) return false;
  out.protocol = next;
  out.offset = offset;
  out.nonFirstFragment = nonFirstFragment;
  return true;
}

/** `locateTransport` returning a new object, or undefined when malformed. */
export function transportInfo(packet: Uint8Array): TransportInfo | undefined {
  const out: TransportInfo = { protocol: 0, offset: 0, nonFirstFragment: false };
  return locateTransport(packet, out) ? out : undefined;
}

/** Upper-layer protocol number, or undefined when malformed. */
export function ipProtocol(packet: Uint8Array): number | undefined {
  return transportInfo(packet)?.protocol;
}

/** A view (no copy) of the source address: 4 or 16 bytes; undefined when malformed. */
export function ipSource(packet: Uint8Array): Uint8Array | undefined {
  const v = ipVersion(packet);
  if (v === 4) return packet.subarray(12, 16);
  if (v === 6) return packet.subarray(8, 24);
  return undefined;
}

/** A view (no copy) of the destination address: 4 or 16 bytes; undefined when malformed. */
export function ipDestination(packet: Uint8Array): Uint8Array | undefined {
  const v = ipVersion(packet);
  if (v === 4) return packet.subarray(16, 20);
  if (v === 6) return packet.subarray(24, 40);
  return undefined;
}

/** Text form of a 4- or 16-byte address ("10.0.0.1", "fd00::1"). */
export function formatIpAddress(address: Uint8Array): string {
  if (address.length === 4) return address.join('.');
  if (address.length !== 16)
    throw new TunPacketError('ERR_TUN_ADDRESS', `an IP address has 4 or 16 bytes, got ${address.length}`);
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push(read16(address, i));
  // Longest run of zero words (length ≥ 2) becomes "::" (RFC 5952).
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) =>
    words
      .slice(from, to)
      .map((w) => w.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/**
 * A 32-bit hash of the flow's 5-tuple that is the same in both directions (A→B and B→A), so
 * both directions of a connection map to one queue. Ports are included for TCP and UDP when
 * present (not for non-first fragments). Undefined when the packet is malformed.
 */
export function flowHash(packet: Uint8Array): number | undefined {
  const v = ipVersion(packet);
  if (v === undefined) return undefined;
  const info = scratch;
  if (!locateTransport(packet, info)) return undefined;
  const addressLength = v === 4 ? 4 : 16;
  const srcAt = v === 4 ? 12 : 8;
  const dstAt = srcAt + addressLength;
  let srcPort = 0;
  let dstPort = 0;
  const hasPorts = (info.protocol === IPPROTO_TCP || info.protocol === IPPROTO_UDP) && !info.nonFirstFragment;
  if (hasPorts && info.offset + 4 <= packet.length) {
    srcPort = read16(packet, info.offset);
    dstPort = read16(packet, info.offset + 2);
  }
  const a = endpointHash(packet, srcAt, addressLength, srcPort);
  const b = endpointHash(packet, dstAt, addressLength, dstPort);
  // Order the two endpoint hashes so the result does not depend on direction.
  const low = Math.min(a, b);
  const high = Math.max(a, b);
  return mix32(mix32(low ^ Math.imul(info.protocol + 1, 0x9e3779b1)) ^ high);
}

const scratch: TransportInfo = { protocol: 0, offset: 0, nonFirstFragment: false };

function endpointHash(packet: Uint8Array, at: number, length: number, port: number): number {
  let h = 0x811c9dc5; // FNV-1a
  for (let i = at; i < at + length; i++) h = Math.imul(h ^ (packet[i] as number), 0x01000193);
  h = Math.imul(h ^ (port >> 8), 0x01000193);
  h = Math.imul(h ^ (port & 0xff), 0x01000193);
  return h >>> 0;
}

function mix32(x: number): number {
  // murmur3 finalizer
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Checks a packet handed to a device's `send`: non-empty, at most `mtu` bytes, first nibble 4
 * or 6. Throws TunPacketError naming the problem; returns the IP version.
 */
export function checkPacket(packet: Uint8Array, mtu: number): 4 | 6 {
  if (!(packet instanceof Uint8Array)) {
    throw new TunPacketError('ERR_TUN_PACKET_TYPE', `a packet must be a Uint8Array or Buffer, got ${typeName(packet)}`);
  }
  if (packet.length === 0) throw new TunPacketError('ERR_TUN_PACKET_SIZE', 'refusing an empty packet');
  if (packet.length > mtu) {
    throw new TunPacketError(
      'ERR_TUN_PACKET_SIZE',
      `refusing a ${packet.length}-byte packet: the device MTU is ${mtu}`,
    );
  }
  const v = (packet[0] as number) >> 4;
  if (v !== 4 && v !== 6) {
    throw new TunPacketError(
      'ERR_TUN_PACKET_VERSION',
      `refusing a packet whose IP version nibble is ${v} (first byte 0x${(packet[0] as number).toString(16).padStart(2, '0')}): only IPv4 and IPv6 packets can be sent`,
    );
  }
  return v;
}

/**
 * `checkPacket` for a packet inside a larger buffer (a PacketBatch), without creating a view:
 * sendMany paths call it per packet, so it must not allocate.
 */
export function checkPacketAt(buffer: Uint8Array, offset: number, length: number, mtu: number): void {
  if (length === 0) throw new TunPacketError('ERR_TUN_PACKET_SIZE', 'refusing an empty packet');
  if (length > mtu) {
    throw new TunPacketError('ERR_TUN_PACKET_SIZE', `refusing a ${length}-byte packet: the device MTU is ${mtu}`);
  }
  const first = buffer[offset] as number;
  if (first >> 4 !== 4 && first >> 4 !== 6) checkPacket(buffer.subarray(offset, offset + length), mtu); // throws, naming it
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}
