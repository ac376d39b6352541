// Sealing one transport packet (message 4): header, padded plaintext encrypted with
// ChaCha20-Poly1305 under the 64-bit counter, tag. Either in place — the header goes into the
// packet's headroom, padding and tag into its tailroom (wireguard-go's `offset` idea) — or
// appended to another batch. Node's cipher returns its output in a fresh buffer, copied back (a
// native batch sealer behind the same calls can remove that copy).

import { createCipheriv } from 'node:crypto';
import type { PacketBatch } from '@tunkit/tun-core';
import { MESSAGE_TRANSPORT, TRANSPORT_HEADER_LENGTH } from './constants.js';
import { counterNonce, TAG_LENGTH } from './crypto.js';
import { writeUint32LE } from './messages.js';

/** Plaintext length after padding to a multiple of 16, never beyond the MTU (as wireguard-go pads). */
export function paddedLength(length: number, mtu: number): number {
  const last = length > mtu && mtu > 0 ? length % mtu : length;
  let padded = (last + 15) & ~15;
  if (mtu > 0 && padded > mtu) padded = mtu;
  return length + (padded - last);
}

const NO_AAD = Buffer.alloc(0);

/** Whom a transport datagram is for: the receiver index it carries (the peer's, from SessionKeys). */
export interface Receiver {
  readonly remoteIndex: number;
}

/** Headroom and tailroom a PacketBatch needs for sealInPlace (header; tag plus up to 15 bytes of padding). */
export const SEAL_HEADROOM = TRANSPORT_HEADER_LENGTH;
export const SEAL_TAILROOM = TAG_LENGTH + 15;

/**
 * Prepares the packet at `offset`/`length` of `buffer` for sealing in place: writes the transport
 * header into the SEAL_HEADROOM bytes before it and zero padding after it (within SEAL_TAILROOM).
 * Returns the padded length: encrypt that many bytes at `offset`, the tag goes right after them.
 * The datagram starts at `offset - SEAL_HEADROOM` and is SEAL_HEADROOM + padded + TAG_LENGTH long.
 */
export function prepareInPlace(
  buffer: Uint8Array,
  offset: number,
  length: number,
  receiver: Receiver,
  counter: number,
  mtu: number,
): number {
  const padded = paddedLength(length, mtu);
  writeHeader(buffer, offset - TRANSPORT_HEADER_LENGTH, receiver, counter); // in place: no view per packet
  buffer.fill(0, offset + length, offset + padded);
  return padded;
}

/** prepareInPlace and node:crypto encryption of one packet; returns the datagram's length. */
export function sealInPlace(
  buffer: Uint8Array,
  offset: number,
  length: number,
  key: Uint8Array,
  receiverIndex: number,
  counter: number,
  mtu: number,
  nonce: Buffer,
): number {
  const padded = prepareInPlace(buffer, offset, length, { remoteIndex: receiverIndex }, counter, mtu);
  const datagram = buffer.subarray(offset - TRANSPORT_HEADER_LENGTH, offset + padded + TAG_LENGTH);
  encrypt(datagram, buffer.subarray(offset, offset + padded), key, counter, padded, nonce);
  return datagram.length;
}

/**
 * Writes the 16-byte transport header at `at` in `buffer`. The receiver index is read from
 * `receiver` here and written byte by byte: an index of 2^30 or more is no small integer to V8, so
 * handing it on as a number to a call that is not inlined would box it, once per packet.
 */
function writeHeader(buffer: Uint8Array, at: number, receiver: Receiver, counter: number): void {
  const index = receiver.remoteIndex;
  buffer[at] = MESSAGE_TRANSPORT;
  buffer[at + 1] = 0;
  buffer[at + 2] = 0;
  buffer[at + 3] = 0;
  buffer[at + 4] = index & 0xff;
  buffer[at + 5] = (index >>> 8) & 0xff;
  buffer[at + 6] = (index >>> 16) & 0xff;
  buffer[at + 7] = index >>> 24;
  writeUint32LE(buffer, at + 8, counter >>> 0);
  writeUint32LE(buffer, at + 12, Math.floor(counter / 2 ** 32));
}

/** Encrypts `body` (the padded plaintext inside `datagram`) in place and writes the tag after it. */
function encrypt(
  datagram: Uint8Array,
  body: Uint8Array,
  key: Uint8Array,
  counter: number,
  padded: number,
  nonce: Buffer,
): void {
  const cipher = createCipheriv('chacha20-poly1305', key, counterNonce(counter, nonce), { authTagLength: TAG_LENGTH });
  cipher.setAAD(NO_AAD, { plaintextLength: padded });
  const encrypted = cipher.update(body);
  body.set(encrypted);
  const rest = cipher.final();
  if (rest.length > 0) body.set(rest, encrypted.length);
  datagram.set(cipher.getAuthTag(), TRANSPORT_HEADER_LENGTH + padded);
}

/** Appends the sealed datagram to `out`; false when `out` has no room. */
export function sealInto(
  out: PacketBatch,
  key: Uint8Array,
  receiverIndex: number,
  counter: number,
  plaintext: Uint8Array,
  mtu: number,
  nonce: Buffer,
): boolean {
  const padded = paddedLength(plaintext.length, mtu);
  const datagram = out.reserve(TRANSPORT_HEADER_LENGTH + padded + TAG_LENGTH);
  if (datagram === undefined) return false;
  writeHeader(datagram, 0, { remoteIndex: receiverIndex }, counter);
  const body = datagram.subarray(TRANSPORT_HEADER_LENGTH, TRANSPORT_HEADER_LENGTH + padded);
  body.set(plaintext);
  body.fill(0, plaintext.length);
  encrypt(datagram, body, key, counter, padded, nonce);
  return true;
}
