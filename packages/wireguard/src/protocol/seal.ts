// Sealing one transport packet (message 4) straight into a PacketBatch: header, padded plaintext
// encrypted with ChaCha20-Poly1305 under the 64-bit counter, tag. The batch's memory receives the
// datagram; Node's cipher still returns its output in a fresh buffer, copied in (a native batch
// sealer behind the same call can remove that copy).

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
  datagram[0] = MESSAGE_TRANSPORT;
  datagram[1] = 0;
  datagram[2] = 0;
  datagram[3] = 0;
  writeUint32LE(datagram, 4, receiverIndex);
  writeUint32LE(datagram, 8, counter >>> 0);
  writeUint32LE(datagram, 12, Math.floor(counter / 2 ** 32));
  const body = datagram.subarray(TRANSPORT_HEADER_LENGTH, TRANSPORT_HEADER_LENGTH + padded);
  body.set(plaintext);
  body.fill(0, plaintext.length);
  const cipher = createCipheriv('chacha20-poly1305', key, counterNonce(counter, nonce), { authTagLength: TAG_LENGTH });
  cipher.setAAD(NO_AAD, { plaintextLength: padded });
  const encrypted = cipher.update(body);
  body.set(encrypted);
  const rest = cipher.final();
  if (rest.length > 0) body.set(rest, encrypted.length);
  datagram.set(cipher.getAuthTag(), TRANSPORT_HEADER_LENGTH + padded);
  return true;
}
