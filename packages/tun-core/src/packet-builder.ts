// Builds IPv4/IPv6 UDP packets with correct checksums: for tests, examples, and programs that
// answer on a Tun (a responder, a reflector) without a kernel stack.

import { IPPROTO_UDP } from './ip.js';

export interface UdpPacketFields {
  source: Uint8Array; // 4 or 16 bytes
  destination: Uint8Array; // same length as source
  sourcePort: number;
  destinationPort: number;
  payload: Uint8Array;
}

/** Builds an IPv4 or IPv6 UDP packet with correct header and UDP checksums. */
export function buildUdpPacket(fields: UdpPacketFields): Uint8Array {
  const v6 = fields.source.length === 16;
  const ipHeader = v6 ? 40 : 20;
  const udpLength = 8 + fields.payload.length;
  const packet = new Uint8Array(ipHeader + udpLength);
  const view = new DataView(packet.buffer);
  if (v6) {
    packet[0] = 0x60;
    view.setUint16(4, udpLength);
    packet[6] = IPPROTO_UDP;
    packet[7] = 64;
    packet.set(fields.source, 8);
    packet.set(fields.destination, 24);
  } else {
    packet[0] = 0x45;
    view.setUint16(2, packet.length);
    view.setUint16(6, 0x4000); // don't fragment
    packet[8] = 64;
    packet[9] = IPPROTO_UDP;
    packet.set(fields.source, 12);
    packet.set(fields.destination, 16);
    view.setUint16(10, internetChecksum(packet, 0, 20, 0));
  }
  view.setUint16(ipHeader, fields.sourcePort);
  view.setUint16(ipHeader + 2, fields.destinationPort);
  view.setUint16(ipHeader + 4, udpLength);
  packet.set(fields.payload, ipHeader + 8);
  // Pseudo-header sum: addresses, protocol, UDP length.
  let pseudo = 0;
  const addresses = v6 ? packet.subarray(8, 40) : packet.subarray(12, 20);
  for (let i = 0; i < addresses.length; i += 2)
    pseudo += ((addresses[i] as number) << 8) | (addresses[i + 1] as number);
  pseudo += IPPROTO_UDP + udpLength;
  const sum = internetChecksum(packet, ipHeader, packet.length, pseudo);
  view.setUint16(ipHeader + 6, sum === 0 ? 0xffff : sum);
  return packet;
}

/** RFC 1071 checksum of bytes [from, to) plus an initial 32-bit partial sum. */
export function internetChecksum(bytes: Uint8Array, from: number, to: number, initial = 0): number {
  let sum = initial;
  let i = from;
  for (; i + 1 < to; i += 2) sum += ((bytes[i] as number) << 8) | (bytes[i + 1] as number);
  if (i < to) sum += (bytes[i] as number) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
