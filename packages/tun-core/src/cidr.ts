// CIDR and IP address text parsing, strict: "10.0.0.1/24", "fd00::1/64", "::ffff:1.2.3.4". Used for
// device addresses and routes, and for WireGuard allowed IPs. Bad text is a TunConfigError
// (code ERR_CIDR) naming the value; nothing is guessed.

import { TunConfigError } from './errors.js';
import { formatIpAddress } from './ip.js';

export interface Cidr {
  family: 4 | 6;
  /** 4 or 16 bytes, as written (host bits kept). */
  address: Uint8Array;
  prefix: number;
}

function bad(value: string, why: string): TunConfigError {
  return new TunConfigError('ERR_CIDR', `invalid ${why}: '${value}'`);
}

/** Parses a dotted IPv4 address; undefined when it is not one (no leading zeros, 4 parts, 0..255). */
function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] as string;
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return undefined;
    bytes[i] = Number(part);
  }
  return bytes;
}

/** Parses an IPv6 address (with "::" and an optional trailing dotted IPv4); undefined when invalid. */
function parseIpv6(text: string): Uint8Array | undefined {
  if (text.length === 0 || text.length > 45 || text.includes('%')) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const words: number[][] = [];
  for (const half of halves) {
    const out: number[] = [];
    if (half.length > 0) {
      const groups = half.split(':');
      for (let i = 0; i < groups.length; i++) {
        const group = groups[i] as string;
        if (i === groups.length - 1 && group.includes('.') && half === halves[halves.length - 1]) {
          const v4 = parseIpv4(group);
          if (v4 === undefined) return undefined;
          out.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
        } else {
          if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
          out.push(Number.parseInt(group, 16));
        }
      }
    }
    words.push(out);
  }
  const head = words[0] as number[];
  const tail = words[1] ?? [];
  const total = head.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const all = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((word, i) => {
    bytes[2 * i] = word >> 8;
    bytes[2 * i + 1] = word & 0xff;
  });
  return bytes;
}

/** Parses an IPv4 or IPv6 address. Throws TunConfigError (ERR_CIDR) naming the text. */
export function parseIpAddress(text: string): Uint8Array {
  const bytes = text.includes(':') ? parseIpv6(text) : parseIpv4(text);
  if (bytes === undefined) throw bad(text, 'IP address');
  return bytes;
}

/**
 * Parses "address/prefix" (a bare address means /32 or /128). Throws TunConfigError (ERR_CIDR)
 * naming the text for a bad address or a prefix outside 0..32 / 0..128.
 */
export function parseCidr(text: string): Cidr {
  if (typeof text !== 'string') throw bad(String(text), 'CIDR (expected a string like 10.0.0.1/24)');
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addressText = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const address = addressText.includes(':') ? parseIpv6(addressText) : parseIpv4(addressText);
  if (address === undefined) throw bad(text, 'CIDR (bad address)');
  const family = address.length === 4 ? 4 : 6;
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const prefixText = trimmed.slice(slash + 1);
    if (!/^(0|[1-9]\d{0,2})$/.test(prefixText) || Number(prefixText) > max) {
      throw bad(text, `CIDR (prefix must be 0..${max})`);
    }
    prefix = Number(prefixText);
  }
  return { family, address, prefix };
}

/** The network of a CIDR: host bits cleared ("10.1.2.3/8" → 10.0.0.0/8). */
export function cidrNetwork(cidr: Cidr): Cidr {
  const address = cidr.address.slice();
  for (let bit = cidr.prefix; bit < address.length * 8; bit++) {
    address[bit >> 3] = (address[bit >> 3] as number) & ~(0x80 >> (bit & 7));
  }
  return { family: cidr.family, address, prefix: cidr.prefix };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIpAddress(cidr.address)}/${cidr.prefix}`;
}
