// Keys as wg(8) writes them: base64 of 32 bytes. generatePrivateKey matches `wg genkey` (random,
// clamped), publicKeyFrom matches `wg pubkey`, generatePresharedKey matches `wg genpsk`.

import { randomBytes } from 'node:crypto';
import { TunConfigError } from '@tunkit/tun-core';
import { KEY_LENGTH, x25519PublicKey } from './crypto.js';

/** Clamps a Curve25519 private key in place (RFC 7748), as `wg genkey` does. */
export function clampPrivateKey(key: Uint8Array): Uint8Array {
  key[0] = (key[0] as number) & 248;
  key[31] = ((key[31] as number) & 127) | 64;
  return key;
}

export function generatePrivateKey(random: (n: number) => Uint8Array = randomBytes): Uint8Array {
  return clampPrivateKey(new Uint8Array(random(KEY_LENGTH)));
}

export function generatePresharedKey(random: (n: number) => Uint8Array = randomBytes): Uint8Array {
  return new Uint8Array(random(KEY_LENGTH));
}

export function publicKeyFrom(privateKey: Uint8Array): Uint8Array {
  return x25519PublicKey(privateKey);
}

const BASE64_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/**
 * Parses a base64 key. Throws TunConfigError (ERR_WG_KEY) naming `what` — never echoing the
 * value, which may be a private key.
 */
export function parseKey(base64: string, what: string): Uint8Array {
  if (typeof base64 !== 'string' || !BASE64_KEY.test(base64.trim())) {
    throw new TunConfigError(
      'ERR_WG_KEY',
      `${what} is not a valid key: expected 44 characters of base64 (as 'wg genkey' prints)`,
    );
  }
  return new Uint8Array(Buffer.from(base64.trim(), 'base64'));
}

export function formatKey(key: Uint8Array): string {
  return Buffer.from(key).toString('base64');
}

/** Lowercase hex, as the UAPI protocol writes keys. */
export function keyToHex(key: Uint8Array): string {
  return Buffer.from(key).toString('hex');
}

export function keyFromHex(hex: string, what: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new TunConfigError('ERR_WG_KEY', `${what} is not 64 lowercase hex digits`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
