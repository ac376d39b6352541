// MAC1, MAC2 and cookie replies (whitepaper 5.4.4 and 5.4.7): MAC1 proves the sender knows our
// public key; under load, MAC2 proves it can receive at its source address, via a cookie we sent.
// The receiving side runs for every handshake message a flood brings, so its MACs are computed in
// place into scratch it owns (blake2s-mac.ts): no view, no array, no garbage per message.

import { randomBytes, randomFillSync } from 'node:crypto';
import { Blake2sMac, MAC_LENGTH } from './blake2s-mac.js';
import {
  COOKIE_REFRESH_TIME,
  COOKIE_REPLY_LENGTH,
  LABEL_COOKIE,
  LABEL_MAC1,
  MESSAGE_COOKIE_REPLY,
} from './constants.js';
import { hash, xaeadOpen, xaeadSealInto } from './crypto.js';
import { COOKIE_REPLY, readUint32LE, writeUint32LE } from './messages.js';

/** The MAC state every MacSender and MacReceiver of this thread shares (calls never interleave). */
const blake2s = new Blake2sMac();

/** Offsets of mac1 and mac2 in a message of `length` bytes (they are its last 32 bytes). */
function macOffsets(length: number): { mac1: number; mac2: number } {
  return { mac1: length - 32, mac2: length - 16 };
}

/** Checks and writes MACs for messages sent to / received by one static key. */
export class MacState {
  /** HASH(LABEL_MAC1 || public key): the MAC1 key for messages to that key. */
  readonly mac1Key: Uint8Array;
  /** HASH(LABEL_COOKIE || public key): the key of cookie replies for messages to that key. */
  readonly cookieKey: Uint8Array;

  constructor(publicKey: Uint8Array) {
    this.mac1Key = hash(LABEL_MAC1, publicKey);
    this.cookieKey = hash(LABEL_COOKIE, publicKey);
  }
}

/** The sending side: adds MAC1 (and MAC2 when holding a fresh cookie from the peer). */
export class MacSender {
  private readonly peer: MacState;
  private cookie: Uint8Array | undefined;
  private cookieAt = 0;
  private lastMac1: Uint8Array | undefined;

  constructor(peerPublicKey: Uint8Array) {
    this.peer = new MacState(peerPublicKey);
  }

  /** Writes mac1 and mac2 into the last 32 bytes of `message`. */
  seal(message: Uint8Array, nowMs: number): void {
    const { mac1, mac2 } = macOffsets(message.length);
    blake2s.macInto(this.peer.mac1Key, message, 0, mac1, message, mac1);
    this.lastMac1 = message.slice(mac1, mac1 + MAC_LENGTH);
    const fresh = this.cookie !== undefined && nowMs - this.cookieAt < COOKIE_REFRESH_TIME;
    if (fresh) blake2s.macInto(this.cookie as Uint8Array, message, 0, mac2, message, mac2);
    else message.fill(0, mac2, mac2 + MAC_LENGTH);
  }

  /** Takes a cookie reply for our last message; false when it does not decrypt (dropped). */
  consumeCookieReply(reply: Uint8Array, nowMs: number): boolean {
    if (this.lastMac1 === undefined) return false;
    const nonce = reply.subarray(COOKIE_REPLY.nonce, COOKIE_REPLY.nonce + 24);
    const cookie = xaeadOpen(
      this.peer.cookieKey,
      nonce,
      reply.subarray(COOKIE_REPLY.cookie, COOKIE_REPLY.cookie + 32),
      this.lastMac1,
    );
    if (cookie === undefined) return false;
    this.cookie = cookie;
    this.cookieAt = nowMs;
    return true;
  }
}

/** The receiving side: checks MAC1, and under load MAC2 against cookies it hands out. */
export class MacReceiver {
  private readonly local: MacState;
  private secret: Uint8Array;
  private secretAt: number;
  private readonly random: (n: number) => Uint8Array;
  private readonly fillRandom: (into: Uint8Array) => void;
  /**
   * A cookie reply's nonce and additional data (the message's MAC1), reused: no garbage per reply.
   * Nonces come from `nonces`, NONCES_PER_FILL at a time (one randomFillSync makes an object).
   */
  private readonly nonce = new Uint8Array(24);
  private readonly nonces = new Uint8Array(24 * NONCES_PER_FILL);
  private noncesLeft = 0;
  private readonly mac1 = new Uint8Array(MAC_LENGTH);
  /** The cookie of `cookieSource` under the current secret (a flood's messages share sources). */
  private readonly cookie = new Uint8Array(MAC_LENGTH);
  private readonly cookieSource = new Uint8Array(18);
  private cookieSourceLength = 0;

  /**
   * `random` makes the cookie secret; `fillRandom` fills each reply's nonce in place (by default
   * randomFillSync when `random` is node's, else through `random`).
   */
  constructor(
    localPublicKey: Uint8Array,
    nowMs: number,
    random: (n: number) => Uint8Array = randomBytes,
    fillRandom?: (into: Uint8Array) => void,
  ) {
    this.local = new MacState(localPublicKey);
    this.random = random;
    this.fillRandom =
      fillRandom ??
      (random === randomBytes ? (into) => void randomFillSync(into) : (into) => into.set(random(into.length)));
    this.secret = new Uint8Array(random(32));
    this.secretAt = nowMs;
  }

  mac1Valid(message: Uint8Array): boolean {
    return this.mac1ValidAt(message, 0, message.length);
  }

  /** mac1Valid for the `length`-byte message at `offset` of `buffer`, read in place. */
  mac1ValidAt(buffer: Uint8Array, offset: number, length: number): boolean {
    const { mac1 } = macOffsets(length);
    return blake2s.verify(this.local.mac1Key, buffer, offset, mac1, offset + mac1);
  }

  /**
   * The cookie for a source address: MAC(secret, ip || port), the secret renewed every 2 minutes.
   * Into this.cookie (valid until the next call), computed only when the source or secret changed.
   */
  private cookieFor(source: Uint8Array, nowMs: number): Uint8Array {
    if (nowMs - this.secretAt >= COOKIE_REFRESH_TIME) {
      this.secret = new Uint8Array(this.random(32));
      this.secretAt = nowMs;
      this.cookieSourceLength = 0;
    }
    let same = source.length === this.cookieSourceLength;
    for (let i = 0; same && i < source.length; i++) same = source[i] === this.cookieSource[i];
    if (!same) {
      blake2s.macInto(this.secret, source, 0, source.length, this.cookie, 0);
      this.cookieSource.set(source);
      this.cookieSourceLength = source.length;
    }
    return this.cookie;
  }

  mac2Valid(message: Uint8Array, source: Uint8Array, nowMs: number): boolean {
    const { mac2 } = macOffsets(message.length);
    return blake2s.verify(this.cookieFor(source, nowMs), message, 0, mac2, mac2);
  }

  /** A cookie reply (message 3) to a message whose MAC1 was valid but that lacked a valid MAC2. */
  cookieReply(message: Uint8Array, source: Uint8Array, nowMs: number): Uint8Array {
    const reply = new Uint8Array(COOKIE_REPLY_LENGTH);
    this.cookieReplyInto(message, source, nowMs, reply, 0);
    return reply;
  }

  /** A fresh random nonce, in this.nonce (valid until the next call). */
  private nextNonce(): Uint8Array {
    if (this.noncesLeft === 0) {
      this.fillRandom(this.nonces);
      this.noncesLeft = NONCES_PER_FILL;
    }
    const from = --this.noncesLeft * 24;
    for (let i = 0; i < 24; i++) this.nonce[i] = this.nonces[from + i] as number;
    return this.nonce;
  }

  /** cookieReply written into out[at, at + 64), as a gateway under a flood answers (no array of its own). */
  cookieReplyInto(message: Uint8Array, source: Uint8Array, nowMs: number, out: Uint8Array, at: number): void {
    out[at] = MESSAGE_COOKIE_REPLY;
    out[at + 1] = out[at + 2] = out[at + 3] = 0;
    writeUint32LE(out, at + COOKIE_REPLY.receiver, readUint32LE(message, 4));
    const nonce = this.nextNonce();
    out.set(nonce, at + COOKIE_REPLY.nonce);
    // The message's MAC1 is the additional data, copied rather than viewed (a view is an object).
    const from = message.length - 32;
    for (let i = 0; i < MAC_LENGTH; i++) this.mac1[i] = message[from + i] as number;
    xaeadSealInto(this.local.cookieKey, nonce, this.cookieFor(source, nowMs), this.mac1, out, at + COOKIE_REPLY.cookie);
  }
}

/** Cookie reply nonces drawn per random fill. */
const NONCES_PER_FILL = 64;

/** The bytes a cookie is bound to: the source IP (4 or 16 bytes) and port, big-endian. */
export function cookieSource(address: Uint8Array, port: number): Uint8Array {
  const out = new Uint8Array(address.length + 2);
  out.set(address);
  out[address.length] = port >> 8;
  out[address.length + 1] = port & 0xff;
  return out;
}
