// The datagrams one Engine call sends: the caller's output batch and, beside it, the endpoint
// each datagram goes to (to[i] for datagram i, as Bind.sendMany takes them). The Engine points it
// at the caller's pair once per call; the parts that send (handshakes, sessions, timers) only
// append to it.

import { PacketBatch } from '@tunkit/tun-core';
import type { Endpoint } from '../bind/bind.js';
import type { SessionKeys } from './handshake.js';
import { sealInto } from './seal.js';

export class Outbox {
  /** Until the first call: a batch that holds nothing. */
  private batch = new PacketBatch({ capacity: 1, byteCapacity: 8 });
  private endpoints: Endpoint[] = [];
  private readonly nonce = Buffer.alloc(12);

  /** Appends to `batch` from now on, the endpoints to `endpoints` (at the same index). */
  use(batch: PacketBatch, endpoints: Endpoint[]): void {
    this.batch = batch;
    this.endpoints = endpoints;
  }

  /** Appends `message` (a handshake message, a cookie reply) for `to`; false when the batch is full. */
  push(message: Uint8Array, to: Endpoint): boolean {
    const slot = this.batch.length;
    if (!this.batch.push(message)) return false;
    this.endpoints[slot] = to;
    return true;
  }

  /**
   * Appends a transport datagram for `to` carrying `plaintext`, sealed with `keys` under
   * `counter` (padded within `mtu`). Returns the datagram's length, or 0 when the batch is full.
   */
  sealTransport(keys: SessionKeys, counter: number, plaintext: Uint8Array, mtu: number, to: Endpoint): number {
    const slot = this.batch.length;
    if (!sealInto(this.batch, keys.sendKey, keys.remoteIndex, counter, plaintext, mtu, this.nonce)) return 0;
    this.endpoints[slot] = to;
    return this.batch.lengths[slot] as number;
  }
}
