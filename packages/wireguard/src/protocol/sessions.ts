// The peers' sessions (keypairs): the local index each is known by, their rotation when a
// handshake completes or is confirmed (previous, current, next, as wireguard-go's
// BeginSymmetricSession and ReceivedWithKeypair), and sending on them: transport data, keepalives
// and the bounded queue of packets staged until a session exists.

import type { Endpoint } from '../bind/bind.js';
import type { EngineContext } from './engine-context.js';
import type { InitiatorState, SessionKeys } from './handshake.js';
import { readUint32LE } from './messages.js';
import { type Keypair, newKeypair, type Peer, STAGED_LIMIT } from './peer.js';

/**
 * The counter for the next packet sent on `keypair`, taken: from its twin when a native data plane
 * shares it, else its own. A counter at or past REJECT_AFTER_MESSAGES must not be used (the
 * caller stages the packet instead); it is never handed out again either way.
 */
export function takeSendCounter(keypair: Keypair): number {
  if (keypair.twin === undefined) return keypair.sendCounter++;
  const counter = keypair.twin.takeCounter();
  if (counter >= keypair.sendCounter) keypair.sendCounter = counter + 1;
  return counter;
}

/** What a local index names: a handshake in flight (no keypair) or a session. */
export interface IndexEntry {
  peer: Peer;
  keypair?: Keypair;
}

const EMPTY = new Uint8Array(0);

/**
 * Local indices are random below 2^30 (30 bits, where WireGuard allows 32): V8 keeps integers
 * below 2^30 unboxed, so looking up the index of every received transport message allocates
 * nothing (a larger one is boxed for the lookup, once per packet). The peer treats the index as
 * any 32-bit value; an index at or above the limit cannot be ours.
 */
export const LOCAL_INDEX_LIMIT = 2 ** 30;

export class Sessions {
  private readonly indices = new Map<number, IndexEntry>();

  constructor(private readonly context: EngineContext) {}

  // ---- local indices ----

  lookup(index: number): IndexEntry | undefined {
    return index < LOCAL_INDEX_LIMIT ? this.indices.get(index) : undefined;
  }

  /** A random local index below LOCAL_INDEX_LIMIT, not in use. */
  allocateIndex(): number {
    for (;;) {
      const bytes = this.context.random(4);
      const index = readUint32LE(bytes, 0) % LOCAL_INDEX_LIMIT;
      if (!this.indices.has(index)) return index;
    }
  }

  /** `peer` initiated a handshake: its state replaces any earlier one, known by its local index. */
  startHandshake(peer: Peer, state: InitiatorState): void {
    this.forgetHandshake(peer);
    peer.handshake = state;
    this.indices.set(state.localIndex, { peer });
  }

  forgetHandshake(peer: Peer): void {
    if (peer.handshake !== undefined) this.indices.delete(peer.handshake.localIndex);
    peer.handshake = undefined;
  }

  /** Drops every keypair of `peer` and its handshake in flight. */
  clear(peer: Peer): void {
    for (const k of [peer.previous, peer.current, peer.next])
      if (k !== undefined) this.indices.delete(k.keys.localIndex);
    peer.previous = peer.current = peer.next = undefined;
    this.forgetHandshake(peer);
    this.context.peerChanged(peer);
  }

  // ---- rotation ----

  /**
   * As responder (wireguard-go's BeginSymmetricSession): the new keypair waits as `next`, not
   * usable for sending until the initiator has used it, and `previous` is let go.
   */
  beginAsResponder(peer: Peer, keys: SessionKeys): void {
    if (peer.next !== undefined) this.indices.delete(peer.next.keys.localIndex);
    if (peer.previous !== undefined) this.indices.delete(peer.previous.keys.localIndex);
    peer.previous = undefined;
    peer.next = newKeypair(keys, this.context.now);
    this.indices.set(keys.localIndex, { peer, keypair: peer.next });
    this.context.peerChanged(peer);
  }

  /**
   * As initiator: the new keypair becomes `current` at once. An unconfirmed `next` (from the
   * peer's own crossing initiation) becomes `previous`, so packets the peer already sealed on it
   * still open; otherwise `current` does. The keypair pushed out is forgotten.
   */
  beginAsInitiator(peer: Peer, keys: SessionKeys): Keypair {
    const keypair = newKeypair(keys, this.context.now);
    this.indices.set(keys.localIndex, { peer, keypair });
    if (peer.previous !== undefined) this.indices.delete(peer.previous.keys.localIndex);
    if (peer.next !== undefined) {
      if (peer.current !== undefined) this.indices.delete(peer.current.keys.localIndex);
      peer.previous = peer.next;
      peer.next = undefined;
    } else {
      peer.previous = peer.current;
    }
    peer.current = keypair;
    this.context.peerChanged(peer);
    return keypair;
  }

  /** The initiator used our `next` keypair: it becomes `current`, the old current `previous`. */
  confirmNext(peer: Peer): Keypair {
    const next = peer.next as Keypair;
    if (peer.previous !== undefined) this.indices.delete(peer.previous.keys.localIndex);
    peer.previous = peer.current;
    peer.current = next;
    peer.next = undefined;
    this.context.peerChanged(peer);
    return next;
  }

  // ---- sending ----

  /** The keypair to send on: `current`, unless it is past REJECT_AFTER_TIME or _MESSAGES. */
  sendKeypair(peer: Peer): Keypair | undefined {
    const k = peer.current;
    if (k === undefined) return undefined;
    const t = this.context.timers;
    if (this.context.now - k.createdAt >= t.rejectAfterTime || k.sendCounter >= t.rejectAfterMessages) return undefined;
    return k;
  }

  /**
   * Seals the `length`-byte packet at `offset` of `source` on `keypair` into the Outbox, for the
   * peer's endpoint; false when the Outbox is full.
   */
  send(peer: Peer, keypair: Keypair, source: Uint8Array, offset: number, length: number): boolean {
    const { outbox, mtu, timers } = this.context;
    const to = peer.endpoint as Endpoint;
    // Taken first: a counter the Outbox then has no room for is skipped, never used twice.
    const counter = takeSendCounter(keypair);
    if (counter >= timers.rejectAfterMessages) return false;
    const size = outbox.addTransport(keypair.keys, counter, source, offset, length, mtu, to);
    if (size === 0) return false;
    this.afterSeal(peer, length, size);
    return true;
  }

  /** Bookkeeping once a packet of `plaintextLength` bytes went out as a `sealedLength` datagram (its counter taken before). */
  afterSeal(peer: Peer, plaintextLength: number, sealedLength: number): void {
    const now = this.context.now;
    peer.txBytes += sealedLength;
    peer.lastSentAt = now;
    if (plaintextLength > 0) {
      if (peer.unansweredDataSince < 0) peer.unansweredDataSince = now;
      peer.owesKeepalive = false;
    }
  }

  sendKeepalive(peer: Peer, keypair: Keypair): void {
    if (this.send(peer, keypair, EMPTY, 0, 0)) {
      peer.owesKeepalive = false;
      this.context.counters.keepalivesSent++;
    }
  }

  /** Copies the `length`-byte packet at `offset` in `buffer` to the peer's bounded staging queue. */
  stage(peer: Peer, buffer: Uint8Array, offset: number, length: number): void {
    if (peer.staged.length >= STAGED_LIMIT) {
      peer.staged.shift();
      this.context.drop('staged-overflow');
    }
    peer.staged.push(buffer.slice(offset, offset + length));
  }

  /** Seals the packets staged for `peer` into the Outbox; what does not fit stays staged, in order. */
  sendStaged(peer: Peer, keypair: Keypair): void {
    let sent = 0;
    for (const packet of peer.staged) {
      if (!this.send(peer, keypair, packet, 0, packet.length)) break;
      sent++;
    }
    peer.staged.splice(0, sent);
  }
}
