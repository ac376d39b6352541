// Test packets: valid IPv4/IPv6 UDP packets (checksums included) that carry a sequence number,
// so contract and device tests can check order and loss on any device, kernel-backed or not.

import { IPPROTO_UDP, ipVersion, locateTransport, type TransportInfo } from '../ip.js';
import { buildUdpPacket } from '../packet-builder.js';

/** "TKSQ": marks a payload that carries a sequence number in its next 4 bytes. */
const MAGIC = 0x544b5351;
/** IPv4 header + UDP header + magic + sequence. */
export const MIN_SEQUENCE_PACKET = 20 + 8 + 8;

/** A payload of `size` bytes (≥ 8) starting with the magic and `seq`; the rest is a pattern derived from seq. */
export function sequencePayload(seq: number, size: number): Uint8Array {
  const payload = new Uint8Array(Math.max(8, size));
  const view = new DataView(payload.buffer);
  view.setUint32(0, MAGIC);
  view.setUint32(4, seq >>> 0);
  for (let i = 8; i < payload.length; i++) payload[i] = (seq + i) & 0xff;
  return payload;
}

/** The sequence number at the start of a payload built by `sequencePayload` (as a UDP socket receives it), or undefined. */
export function payloadSequence(payload: Uint8Array): number | undefined {
  if (payload.length < 8) return undefined;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return view.getUint32(0) === MAGIC ? view.getUint32(4) : undefined;
}

const scratch: TransportInfo = { protocol: 0, offset: 0, nonFirstFragment: false };

/** The sequence number a UDP packet built by `sequencePayload` carries, or undefined for any other packet. */
export function readSequence(packet: Uint8Array): number | undefined {
  if (ipVersion(packet) === undefined || !locateTransport(packet, scratch)) return undefined;
  if (scratch.protocol !== IPPROTO_UDP) return undefined;
  const at = scratch.offset + 8;
  if (at + 8 > packet.length) return undefined;
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  if (view.getUint32(at) !== MAGIC) return undefined;
  return view.getUint32(at + 4);
}

/** A `size`-byte IPv4 UDP packet from 10.0.0.1:5000 to 10.0.0.2:5001 carrying `seq`. */
export function sequencePacket(seq: number, size = 100, from = [10, 0, 0, 1], to = [10, 0, 0, 2]): Uint8Array {
  return buildUdpPacket({
    source: Uint8Array.from(from),
    destination: Uint8Array.from(to),
    sourcePort: 5000,
    destinationPort: 5001,
    payload: sequencePayload(seq, Math.max(8, size - 28)),
  });
}
