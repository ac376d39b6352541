// The datagrams one Engine call sends: the caller's output batch and, beside it, the endpoint
// each datagram goes to (to[i] for datagram i, as Bind.sendMany takes them). The Engine points it
// at the caller's pair once per call; the parts that send (handshakes, sessions, timers) only
// append to it. Transport datagrams are laid out at once (header, plaintext, padding) and
// encrypted together when the call ends (`seal`): one AEAD backend call for the keepalives and
// staged packets of a call, not a cipher object each.

import { PacketBatch } from '@tunkit/tun-core';
import type { Endpoint } from '../bind/bind.js';
import { type AeadBackend, AeadJobs } from './aead-batch.js';
import { TRANSPORT_HEADER_LENGTH } from './constants.js';
import { TAG_LENGTH } from './crypto.js';
import type { SessionKeys } from './handshake.js';
import { paddedLength, prepareInPlace } from './seal.js';

export class Outbox {
  /** Until the first call: a batch that holds nothing. */
  private batch = new PacketBatch({ capacity: 1, byteCapacity: 8 });
  private endpoints: Endpoint[] = [];
  /** The transport datagrams appended since the last seal, still in plaintext. */
  private jobs = new AeadJobs(1);

  /**
   * Appends to `batch` from now on, the endpoints to `endpoints` (at the same index). Call `seal`
   * before the batch is sent.
   */
  use(batch: PacketBatch, endpoints: Endpoint[]): void {
    this.batch = batch;
    this.endpoints = endpoints;
    if (this.jobs.capacity < batch.capacity) this.jobs = new AeadJobs(batch.capacity);
    this.jobs.clear();
  }

  /**
   * Appends a `length`-byte datagram for `to` to be written in place: returns its offset in
   * `buffer`, or -1 when the batch is full.
   */
  reserve(length: number, to: Endpoint): number {
    const at = this.batch.reserveAt(length);
    if (at >= 0) this.endpoints[this.batch.length - 1] = to;
    return at;
  }

  /** The buffer `reserve` offsets are in. */
  get buffer(): Uint8Array {
    return this.batch.buffer;
  }

  /** Appends `message` (a handshake message, a cookie reply) for `to`; false when the batch is full. */
  push(message: Uint8Array, to: Endpoint): boolean {
    const slot = this.batch.length;
    if (!this.batch.push(message)) return false;
    this.endpoints[slot] = to;
    return true;
  }

  /**
   * Appends a transport datagram for `to` carrying `plaintext` (`length` bytes at `offset` of
   * `source`), to be sealed with `keys` under `counter` (padded within `mtu`) by `seal`. Returns
   * the datagram's length, or 0 when the batch is full.
   */
  addTransport(
    keys: SessionKeys,
    counter: number,
    source: Uint8Array,
    offset: number,
    length: number,
    mtu: number,
    to: Endpoint,
  ): number {
    const batch = this.batch;
    const padded = paddedLength(length, mtu);
    const size = TRANSPORT_HEADER_LENGTH + padded + TAG_LENGTH;
    const at = batch.reserveAt(size);
    if (at < 0) return 0;
    const body = at + TRANSPORT_HEADER_LENGTH;
    if (length > 0) {
      // A whole array (a staged packet) is copied without a view; a packet inside another batch
      // needs one (on Node 20, Buffer#copy makes the same view inside).
      batch.buffer.set(
        offset === 0 && length === source.length ? source : source.subarray(offset, offset + length),
        body,
      );
    }
    prepareInPlace(batch.buffer, body, length, keys, counter, mtu);
    this.jobs.add(keys.sendKey, counter, body, padded);
    this.endpoints[batch.length - 1] = to;
    return size;
  }

  /** Encrypts the transport datagrams appended since `use`, in one backend call. */
  seal(aead: AeadBackend): void {
    if (this.jobs.count > 0) aead.seal(this.batch.buffer, this.jobs);
    this.jobs.clear();
  }
}
