// The WireGuard primitives, from Node's crypto where it has them (X25519, ChaCha20-Poly1305,
// BLAKE2s-256 and HMAC-BLAKE2s) and from @noble for what it lacks (XChaCha20-Poly1305 for
// cookies). One exception, for a measured reason: keyed BLAKE2s (MAC1/MAC2) is blake2s-mac.ts,
// which allocates nothing per call (@noble's made 21 KB of garbage per MAC, see there).

import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  type KeyObject,
} from 'node:crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { native, nativeLoadFailure } from '../native.js';
import { Blake2sMac, MAC_LENGTH } from './blake2s-mac.js';

export const KEY_LENGTH = 32;
export const TAG_LENGTH = 16;

// DER prefixes that wrap a raw 32-byte X25519 key for Node's KeyObject import (RFC 8410).
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

/** BLAKE2s-256 of the concatenated parts. */
export function hash(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('blake2s256');
  for (const p of parts) h.update(p);
  return h.digest();
}

const blake2sMac = new Blake2sMac();

/** Keyed BLAKE2s with a 16-byte output: WireGuard's MAC (for MAC1, MAC2 and cookies). */
export function mac(key: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(MAC_LENGTH);
  blake2sMac.macInto(key, data, 0, data.length, out, 0);
  return out;
}

/** HMAC-BLAKE2s-256. */
export function hmac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac('blake2s256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

const ONE = Uint8Array.of(1);
const TWO = Uint8Array.of(2);
const THREE = Uint8Array.of(3);

/** The HKDF of the whitepaper: n outputs (1..3) from chaining key `key` and `input`. */
export function kdf(n: 1 | 2 | 3, key: Uint8Array, input: Uint8Array): Uint8Array[] {
  const t0 = hmac(key, input);
  const t1 = hmac(t0, ONE);
  if (n === 1) return [t1];
  const t2 = hmac(t0, t1, TWO);
  if (n === 2) return [t1, t2];
  return [t1, t2, hmac(t0, t2, THREE)];
}

/** The 12-byte ChaCha20-Poly1305 nonce: 4 zero bytes, then the 64-bit counter little-endian. */
export function counterNonce(counter: number, into: Buffer = Buffer.alloc(12)): Buffer {
  into.writeUInt32LE(0, 0);
  into.writeUInt32LE(counter >>> 0, 4);
  into.writeUInt32LE(Math.floor(counter / 2 ** 32), 8);
  return into;
}

/** ChaCha20-Poly1305 seal: ciphertext || tag. */
export function aeadSeal(key: Uint8Array, counter: number, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const cipher = createCipheriv('chacha20-poly1305', key, counterNonce(counter), { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  const out = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return out;
}

/** ChaCha20-Poly1305 open; undefined when the tag does not verify. */
export function aeadOpen(
  key: Uint8Array,
  counter: number,
  sealed: Uint8Array,
  aad: Uint8Array,
): Uint8Array | undefined {
  if (sealed.length < TAG_LENGTH) return undefined;
  const decipher = createDecipheriv('chacha20-poly1305', key, counterNonce(counter), { authTagLength: TAG_LENGTH });
  decipher.setAAD(aad, { plaintextLength: sealed.length - TAG_LENGTH });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
  const plain = decipher.update(sealed.subarray(0, sealed.length - TAG_LENGTH));
  try {
    decipher.final();
  } catch {
    return undefined;
  }
  return plain;
}

/** XChaCha20-Poly1305 (24-byte nonce), for cookie replies. */
export function xaeadSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const out = new Uint8Array(plaintext.length + TAG_LENGTH);
  xaeadSealInto(key, nonce, plaintext, aad, out, 0);
  return out;
}

/** The native XChaCha20-Poly1305 seal (native/xaead.cc), null where the addon does not load. */
let nativeXseal: typeof xaeadSealInto | null | undefined;

/**
 * xaeadSeal into out[outOffset..] (ciphertext, then the 16-byte tag). Through the addon's OpenSSL
 * where it loads: a gateway under a flood seals a cookie reply per initiation, and @noble's made
 * about 8 KB of garbage each; @noble elsewhere.
 */
export function xaeadSealInto(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  out: Uint8Array,
  outOffset: number,
): void {
  if (nativeXseal === undefined) {
    nativeXseal =
      nativeLoadFailure() === undefined && process.env.TUNKIT_AEAD !== 'node-crypto' ? native().xsealInto : null;
  }
  if (nativeXseal !== null) {
    nativeXseal(key, nonce, plaintext, aad, out, outOffset);
    return;
  }
  out.set(xchacha20poly1305(key, nonce, aad).encrypt(plaintext), outOffset);
}

export function xaeadOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Uint8Array | undefined {
  try {
    return xchacha20poly1305(key, nonce, aad).decrypt(sealed);
  } catch {
    return undefined;
  }
}

// Static keys are used for every handshake: keep their KeyObjects (keyed by the array itself).
const keyObjects = new WeakMap<Uint8Array, KeyObject>();

function privateKeyObject(privateKey: Uint8Array): KeyObject {
  let key = keyObjects.get(privateKey);
  if (key === undefined) {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, privateKey]), format: 'der', type: 'pkcs8' });
    keyObjects.set(privateKey, key);
  }
  return key;
}

/** The X25519 public key of a 32-byte private key. */
export function x25519PublicKey(privateKey: Uint8Array): Uint8Array {
  const der = createPublicKey(privateKeyObject(privateKey)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - KEY_LENGTH));
}

/**
 * X25519(privateKey, publicKey). Undefined for a low-order public key (an all-zero shared
 * secret), which WireGuard refuses.
 */
export function x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array | undefined {
  let shared: Buffer;
  try {
    shared = diffieHellman({
      privateKey: privateKeyObject(privateKey),
      publicKey: createPublicKey({ key: Buffer.concat([SPKI_X25519, publicKey]), format: 'der', type: 'spki' }),
    });
  } catch {
    return undefined; // OpenSSL refuses low-order points itself ("failed during derivation")
  }
  return shared.every((b) => b === 0) ? undefined : new Uint8Array(shared);
}

/** Constant-time equality of two byte strings. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
