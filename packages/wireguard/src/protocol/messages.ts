// Parsing of the four WireGuard messages with strict type and length checks. Network input never
// throws: a message that does not parse yields undefined and the caller counts a drop reason.

import {
  COOKIE_REPLY_LENGTH,
  INITIATION_LENGTH,
  MESSAGE_COOKIE_REPLY,
  MESSAGE_INITIATION,
  MESSAGE_RESPONSE,
  MESSAGE_TRANSPORT,
  RESPONSE_LENGTH,
  TRANSPORT_MIN_LENGTH,
} from './constants.js';

export type MessageType = 1 | 2 | 3 | 4;

/** The message type of a datagram when its type byte, reserved bytes and length agree; else undefined. */
export function messageType(datagram: Uint8Array): MessageType | undefined {
  return messageTypeAt(datagram, 0, datagram.length);
}

/** messageType of the `length` bytes at `offset` in `buffer`, read in place (the hot path allocates nothing). */
export function messageTypeAt(buffer: Uint8Array, offset: number, length: number): MessageType | undefined {
  if (length < 4 || buffer[offset + 1] !== 0 || buffer[offset + 2] !== 0 || buffer[offset + 3] !== 0) return undefined;
  switch (buffer[offset]) {
    case MESSAGE_INITIATION:
      return length === INITIATION_LENGTH ? 1 : undefined;
    case MESSAGE_RESPONSE:
      return length === RESPONSE_LENGTH ? 2 : undefined;
    case MESSAGE_COOKIE_REPLY:
      return length === COOKIE_REPLY_LENGTH ? 3 : undefined;
    case MESSAGE_TRANSPORT:
      // Not necessarily a multiple of 16: padding stops at the MTU (a 1420-byte packet stays 1420).
      return length >= TRANSPORT_MIN_LENGTH ? 4 : undefined;
    default:
      return undefined;
  }
}

export function readUint32LE(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at] as number) |
      ((bytes[at + 1] as number) << 8) |
      ((bytes[at + 2] as number) << 16) |
      ((bytes[at + 3] as number) << 24)) >>>
    0
  );
}

export function writeUint32LE(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
  bytes[at + 2] = (value >>> 16) & 0xff;
  bytes[at + 3] = (value >>> 24) & 0xff;
}

/** Field offsets. */
export const INITIATION = { sender: 4, ephemeral: 8, static: 40, timestamp: 88, mac1: 116, mac2: 132 } as const;
export const RESPONSE = { sender: 4, receiver: 8, ephemeral: 12, empty: 44, mac1: 60, mac2: 76 } as const;
export const COOKIE_REPLY = { receiver: 4, nonce: 8, cookie: 32 } as const;
export const TRANSPORT = { receiver: 4, counter: 8, payload: 16 } as const;
