// The Noise_IKpsk2 handshake of WireGuard (whitepaper 5.4.2-5.4.5), sans-IO: functions over
// bytes, keys, a clock value and a random source. They create and consume messages 1 and 2 and
// derive the transport keys; MAC1/MAC2 are added and checked by cookie.ts.

import {
  CONSTRUCTION,
  IDENTIFIER,
  INITIATION_LENGTH,
  MESSAGE_INITIATION,
  MESSAGE_RESPONSE,
  RESPONSE_LENGTH,
} from './constants.js';
import { aeadOpen, aeadSeal, hash, KEY_LENGTH, kdf, x25519, x25519PublicKey } from './crypto.js';
import { clampPrivateKey } from './keys.js';
import { INITIATION, RESPONSE, readUint32LE, writeUint32LE } from './messages.js';
import { tai64n } from './tai64n.js';

export type Random = (n: number) => Uint8Array;

const EMPTY = new Uint8Array(0);
const ZERO_KEY = new Uint8Array(KEY_LENGTH);
const INITIAL_CHAIN = hash(CONSTRUCTION);
const INITIAL_HASH = hash(INITIAL_CHAIN, IDENTIFIER);

export interface StaticIdentity {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

/** What the initiator keeps between sending message 1 and receiving message 2. */
export interface InitiatorState {
  localIndex: number;
  chainingKey: Uint8Array;
  hash: Uint8Array;
  ephemeralPrivate: Uint8Array;
  remoteStatic: Uint8Array;
  presharedKey: Uint8Array;
}

/** Keys for one session, and its indices. */
export interface SessionKeys {
  sendKey: Uint8Array;
  receiveKey: Uint8Array;
  localIndex: number;
  remoteIndex: number;
  isInitiator: boolean;
}

/** Message 1 without MACs (the caller adds them), and the state to keep. */
export function createInitiation(
  local: StaticIdentity,
  remoteStatic: Uint8Array,
  presharedKey: Uint8Array | undefined,
  localIndex: number,
  nowMs: number,
  random: Random,
): { message: Uint8Array; state: InitiatorState } | undefined {
  const message = new Uint8Array(INITIATION_LENGTH);
  message[0] = MESSAGE_INITIATION;
  writeUint32LE(message, INITIATION.sender, localIndex);
  let c = INITIAL_CHAIN;
  let h = hash(INITIAL_HASH, remoteStatic);
  const ephemeralPrivate = clampPrivateKey(new Uint8Array(random(KEY_LENGTH)));
  const ephemeralPublic = x25519PublicKey(ephemeralPrivate);
  [c] = kdf(1, c, ephemeralPublic) as [Uint8Array];
  message.set(ephemeralPublic, INITIATION.ephemeral);
  h = hash(h, ephemeralPublic);
  const es = x25519(ephemeralPrivate, remoteStatic);
  if (es === undefined) return undefined;
  let k: Uint8Array;
  [c, k] = kdf(2, c, es) as [Uint8Array, Uint8Array];
  const encryptedStatic = aeadSeal(k, 0, local.publicKey, h);
  message.set(encryptedStatic, INITIATION.static);
  h = hash(h, encryptedStatic);
  const ss = x25519(local.privateKey, remoteStatic);
  if (ss === undefined) return undefined;
  [c, k] = kdf(2, c, ss) as [Uint8Array, Uint8Array];
  const encryptedTimestamp = aeadSeal(k, 0, tai64n(nowMs), h);
  message.set(encryptedTimestamp, INITIATION.timestamp);
  h = hash(h, encryptedTimestamp);
  return {
    message,
    state: {
      localIndex,
      chainingKey: c,
      hash: h,
      ephemeralPrivate,
      remoteStatic,
      presharedKey: presharedKey ?? ZERO_KEY,
    },
  };
}

/** What the responder learns from a valid message 1. */
export interface ConsumedInitiation {
  remoteStatic: Uint8Array;
  remoteIndex: number;
  remoteEphemeral: Uint8Array;
  timestamp: Uint8Array;
  chainingKey: Uint8Array;
  hash: Uint8Array;
}

/** Decrypts message 1 (MAC1 already checked); undefined when it does not authenticate. */
export function consumeInitiation(local: StaticIdentity, message: Uint8Array): ConsumedInitiation | undefined {
  let c = INITIAL_CHAIN;
  let h = hash(INITIAL_HASH, local.publicKey);
  const remoteEphemeral = message.slice(INITIATION.ephemeral, INITIATION.ephemeral + 32);
  [c] = kdf(1, c, remoteEphemeral) as [Uint8Array];
  h = hash(h, remoteEphemeral);
  const es = x25519(local.privateKey, remoteEphemeral);
  if (es === undefined) return undefined;
  let k: Uint8Array;
  [c, k] = kdf(2, c, es) as [Uint8Array, Uint8Array];
  const encryptedStatic = message.subarray(INITIATION.static, INITIATION.static + 48);
  const remoteStatic = aeadOpen(k, 0, encryptedStatic, h);
  if (remoteStatic === undefined) return undefined;
  h = hash(h, encryptedStatic);
  const ss = x25519(local.privateKey, remoteStatic);
  if (ss === undefined) return undefined;
  [c, k] = kdf(2, c, ss) as [Uint8Array, Uint8Array];
  const encryptedTimestamp = message.subarray(INITIATION.timestamp, INITIATION.timestamp + 28);
  const timestamp = aeadOpen(k, 0, encryptedTimestamp, h);
  if (timestamp === undefined) return undefined;
  h = hash(h, encryptedTimestamp);
  return {
    remoteStatic: new Uint8Array(remoteStatic),
    remoteIndex: readUint32LE(message, INITIATION.sender),
    remoteEphemeral,
    timestamp: new Uint8Array(timestamp),
    chainingKey: c,
    hash: h,
  };
}

/** Message 2 without MACs, and the responder's session keys. */
export function createResponse(
  initiation: ConsumedInitiation,
  presharedKey: Uint8Array | undefined,
  localIndex: number,
  random: Random,
): { message: Uint8Array; keys: SessionKeys } | undefined {
  const message = new Uint8Array(RESPONSE_LENGTH);
  message[0] = MESSAGE_RESPONSE;
  writeUint32LE(message, RESPONSE.sender, localIndex);
  writeUint32LE(message, RESPONSE.receiver, initiation.remoteIndex);
  let c = initiation.chainingKey;
  let h = initiation.hash;
  const ephemeralPrivate = clampPrivateKey(new Uint8Array(random(KEY_LENGTH)));
  const ephemeralPublic = x25519PublicKey(ephemeralPrivate);
  [c] = kdf(1, c, ephemeralPublic) as [Uint8Array];
  message.set(ephemeralPublic, RESPONSE.ephemeral);
  h = hash(h, ephemeralPublic);
  const ee = x25519(ephemeralPrivate, initiation.remoteEphemeral);
  const se = x25519(ephemeralPrivate, initiation.remoteStatic);
  if (ee === undefined || se === undefined) return undefined;
  [c] = kdf(1, c, ee) as [Uint8Array];
  [c] = kdf(1, c, se) as [Uint8Array];
  const [c2, t, k] = kdf(3, c, presharedKey ?? ZERO_KEY) as [Uint8Array, Uint8Array, Uint8Array];
  c = c2;
  h = hash(h, t);
  const empty = aeadSeal(k, 0, EMPTY, h);
  message.set(empty, RESPONSE.empty);
  h = hash(h, empty);
  const [receiveKey, sendKey] = kdf(2, c, EMPTY) as [Uint8Array, Uint8Array];
  return {
    message,
    keys: { sendKey, receiveKey, localIndex, remoteIndex: initiation.remoteIndex, isInitiator: false },
  };
}

/** Consumes message 2 (MAC1 already checked) for the initiator state it answers; undefined when it does not authenticate. */
export function consumeResponse(
  local: StaticIdentity,
  state: InitiatorState,
  message: Uint8Array,
): SessionKeys | undefined {
  let c = state.chainingKey;
  let h = state.hash;
  const remoteEphemeral = message.subarray(RESPONSE.ephemeral, RESPONSE.ephemeral + 32);
  [c] = kdf(1, c, remoteEphemeral) as [Uint8Array];
  h = hash(h, remoteEphemeral);
  const ee = x25519(state.ephemeralPrivate, remoteEphemeral);
  const se = x25519(local.privateKey, remoteEphemeral);
  if (ee === undefined || se === undefined) return undefined;
  [c] = kdf(1, c, ee) as [Uint8Array];
  [c] = kdf(1, c, se) as [Uint8Array];
  const [c2, t, k] = kdf(3, c, state.presharedKey) as [Uint8Array, Uint8Array, Uint8Array];
  c = c2;
  h = hash(h, t);
  const empty = message.subarray(RESPONSE.empty, RESPONSE.empty + 16);
  if (aeadOpen(k, 0, empty, h) === undefined) return undefined;
  const [sendKey, receiveKey] = kdf(2, c, EMPTY) as [Uint8Array, Uint8Array];
  return {
    sendKey,
    receiveKey,
    localIndex: state.localIndex,
    remoteIndex: readUint32LE(message, RESPONSE.sender),
    isInitiator: true,
  };
}
