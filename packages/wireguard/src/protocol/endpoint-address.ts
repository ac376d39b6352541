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

/**
 * cookieSource for `endpoint`, or undefined when its address does not parse. An IPv4 one is
 * written into `into` (6 bytes; valid until the next call with it) when given: under a flood every
 * handshake message needs one.
 */
export function endpointCookieSource(endpoint: Endpoint, into?: Uint8Array): Uint8Array | undefined {
  const v4 = ipv4CookieSource(endpoint.address, endpoint.port, into ?? new Uint8Array(6));
  if (v4 !== undefined) return v4;
  try {
    return cookieSource(parseIpAddress(withoutZone(endpoint.address)), endpoint.port);
  } catch {
    return undefined;
  }
}

/**
 * The cookie source of a dotted IPv4 address read character by character, or undefined for
 * anything else (IPv6 goes through parseIpAddress). Under a flood every handshake message needs
 * one, and parsing by splitting made several strings and arrays each.
 */
function ipv4CookieSource(address: string, port: number, out: Uint8Array): Uint8Array | undefined {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= address.length; i++) {
    const c = i < address.length ? address.charCodeAt(i) : 46; // a final '.'
    if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return undefined; // a leading zero
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return undefined;
    } else if (c === 46 && digits > 0 && part < 4) {
      out[part++] = value;
      value = 0;
      digits = 0;
    } else {
      return undefined;
    }
  }
  if (part !== 4) return undefined;
  out[4] = port >> 8;
  out[5] = port & 0xff;
  return out;
}
