// IP header reads at an offset inside a larger buffer (a PacketBatch's), so the per-packet paths
// of the Engine and AllowedIps look at addresses and lengths without creating a view per packet.
// Same rules as tun-core's ip.ts (which works on one packet per Uint8Array): malformed → undefined
// or -1, never an out-of-bounds read.

/** 4 or 6 when the bytes hold at least that version's fixed header; 0 otherwise. */
export function ipVersionAt(buffer: Uint8Array, offset: number, length: number): 0 | 4 | 6 {
  if (length <= 0) return 0;
  const v = (buffer[offset] as number) >> 4;
  if (v === 4) return length >= 20 ? 4 : 0;
  if (v === 6) return length >= 40 ? 6 : 0;
  return 0;
}

/**
 * The packet's length from its header (IPv4 total length; IPv6 40 + payload length), or -1 when
 * the header is malformed or claims more than `length` bytes.
 */
export function ipTotalLengthAt(buffer: Uint8Array, offset: number, length: number): number {
  const v = ipVersionAt(buffer, offset, length);
  if (v === 0) return -1;
  let header = 40;
  let total: number;
  if (v === 4) {
    header = ((buffer[offset] as number) & 0x0f) * 4;
    if (header < 20 || header > length) return -1;
    total = ((buffer[offset + 2] as number) << 8) | (buffer[offset + 3] as number);
  } else {
    total = 40 + (((buffer[offset + 4] as number) << 8) | (buffer[offset + 5] as number));
  }
  return total < header || total > length ? -1 : total;
}

/** Offset in `buffer` of the packet's source (or destination) address, or -1 when malformed. */
export function ipAddressOffset(
  buffer: Uint8Array,
  offset: number,
  length: number,
  which: 'source' | 'destination',
): number {
  const v = ipVersionAt(buffer, offset, length);
  if (v === 4) return offset + (which === 'source' ? 12 : 16);
  if (v === 6) return offset + (which === 'source' ? 8 : 24);
  return -1;
}
