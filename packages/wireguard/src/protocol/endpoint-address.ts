// The bytes of a UDP sender's address and port that a cookie is bound to (whitepaper 5.4.7),
// from an Endpoint's text. node:dgram reports IPv6 link-local senders with a zone ("fe80::1%eth0");
// the zone names our interface, not the peer, so it is dropped. Never throws: a sender that does
// not parse yields undefined and the Engine drops the message, counted.

import { parseIpAddress } from '@tunkit/tun-core';
import type { Endpoint } from '../bind/bind.js';
import { cookieSource } from './cookie.js';

/** Address without its IPv6 zone ("fe80::1%eth0" → "fe80::1"). */
export function withoutZone(address: string): string {
  const percent = address.indexOf('%');
  return percent < 0 ? address : address.slice(0, percent);
}

/** cookieSource for `endpoint`, or undefined when its address does not parse. */
export function endpointCookieSource(endpoint: Endpoint): Uint8Array | undefined {
  try {
    return cookieSource(parseIpAddress(withoutZone(endpoint.address)), endpoint.port);
  } catch {
    return undefined;
  }
}
