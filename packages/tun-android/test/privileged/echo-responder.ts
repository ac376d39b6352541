// A tiny ICMP/ICMPv6 echo responder in JS, the "network" behind a device in tests: it turns an
// echo request read from the Tun into the echo reply, in place, so `ping` through the device works.

import { internetChecksum } from '@tunkit/tun-core';

const ICMP_ECHO_REQUEST = 8;
const ICMP_ECHO_REPLY = 0;
const ICMPV6_ECHO_REQUEST = 128;
const ICMPV6_ECHO_REPLY = 129;

function swap(packet: Uint8Array, a: number, b: number, length: number): void {
  for (let i = 0; i < length; i++) {
    const t = packet[a + i] as number;
    packet[a + i] = packet[b + i] as number;
    packet[b + i] = t;
  }
}

/** Turns an IPv4 or IPv6 echo request into its reply (a new array); undefined for any other packet. */
export function echoReply(request: Uint8Array): Uint8Array | undefined {
  const packet = request.slice();
  const version = (packet[0] as number) >> 4;
  if (version === 4) {
    const headerLength = ((packet[0] as number) & 0x0f) * 4;
    if (packet[9] !== 1 || packet.length < headerLength + 8 || packet[headerLength] !== ICMP_ECHO_REQUEST)
      return undefined;
    // Swapping the addresses leaves the IPv4 header checksum as it is (a sum does not see order).
    swap(packet, 12, 16, 4);
    packet[headerLength] = ICMP_ECHO_REPLY;
    packet[headerLength + 2] = 0;
    packet[headerLength + 3] = 0;
    const sum = internetChecksum(packet, headerLength, packet.length);
    packet[headerLength + 2] = sum >> 8;
    packet[headerLength + 3] = sum & 0xff;
    return packet;
  }
  if (version === 6) {
    if (packet[6] !== 58 || packet.length < 48 || packet[40] !== ICMPV6_ECHO_REQUEST) return undefined;
    swap(packet, 8, 24, 16);
    packet[40] = ICMPV6_ECHO_REPLY;
    packet[42] = 0;
    packet[43] = 0;
    // ICMPv6 checksums cover a pseudo-header: both addresses, the upper-layer length, next header 58.
    const length = packet.length - 40;
    let pseudo = 0;
    for (let i = 8; i < 40; i += 2) pseudo += ((packet[i] as number) << 8) | (packet[i + 1] as number);
    pseudo += (length >>> 16) + (length & 0xffff) + 58;
    const sum = internetChecksum(packet, 40, packet.length, pseudo);
    packet[42] = sum >> 8;
    packet[43] = sum & 0xff;
    return packet;
  }
  return undefined;
}
