// The Engine's handshake messages: initiating (and retransmitting), answering an initiation,
// completing on a response, taking a cookie reply, and confirming a responder's session when the
// initiator first uses it. Cheap before expensive (whitepaper 5.3): a received initiation or
// response is checked for MAC1 as it arrives and, if valid, waits in the bounded handshake queue
// (handshake-queue.ts; dropped and counted when full). It is processed later, a few per turn:
// under load (load-gauge.ts: the queue is deep, or was a second ago) it needs a valid MAC2 (else
// the sender gets a cookie reply and nothing more), then its source address must have a token
// left (ratelimiter.ts), and only then comes the Diffie-Hellman work. The Noise messages
// themselves are built and read by handshake.ts; the keypairs they yield are rotated by sessions.ts.

import type { Endpoint } from '../bind/bind.js';
import { COOKIE_REPLY_LENGTH, MESSAGE_INITIATION } from './constants.js';
import { MacReceiver } from './cookie.js';
import { endpointCookieSource } from './endpoint-address.js';
import type { EngineContext } from './engine-context.js';
import {
  consumeInitiation,
  consumeResponse,
  createInitiation,
  createResponse,
  type StaticIdentity,
} from './handshake.js';
import { HandshakeQueue } from './handshake-queue.js';
import { keyToHex, publicKeyFrom } from './keys.js';
import { LoadGauge } from './load-gauge.js';
import { readUint32LE } from './messages.js';
import type { Keypair, Peer } from './peer.js';
import { RateLimiter } from './ratelimiter.js';
import type { Sessions } from './sessions.js';
import { tai64nAfter } from './tai64n.js';

export interface HandshakeLimits {
  /** The handshake queue's capacity (default HANDSHAKE_QUEUE_CAPACITY, 1,024). */
  queue?: number;
  /** The per-source rate limiter used under load (default: 20/s, burst 5, 16,384 sources). */
  rateLimiter?: RateLimiter;
  /**
   * A load signal of the host's own, or a test's: while it says true, the device is under load
   * whatever its handshake queue holds.
   */
  extraLoad?: () => boolean;
}

export class Handshakes {
  private identityKeys: StaticIdentity;
  private macReceiver: MacReceiver;
  private readonly queue: HandshakeQueue;
  private readonly load: LoadGauge;
  private readonly rateLimiter: RateLimiter;
  private readonly extraLoad: () => boolean;
  /** Where an IPv4 sender's cookie source is written under load (read before the next message). */
  private readonly cookieSourceScratch = new Uint8Array(6);

  constructor(
    private readonly context: EngineContext,
    private readonly sessions: Sessions,
    privateKey: Uint8Array,
    limits: HandshakeLimits,
    now: number,
  ) {
    this.identityKeys = { privateKey, publicKey: publicKeyFrom(privateKey) };
    this.macReceiver = new MacReceiver(this.identityKeys.publicKey, now, context.random, context.fillRandom);
    this.queue = new HandshakeQueue(limits.queue);
    this.load = new LoadGauge(this.queue.capacity);
    this.rateLimiter = limits.rateLimiter ?? new RateLimiter();
    this.extraLoad = limits.extraLoad ?? (() => false);
  }

  /** Initiations and responses waiting in the handshake queue. */
  get queued(): number {
    return this.queue.length;
  }

  /** Whether the device is under load at `now` (the queue as it is; see load-gauge.ts). */
  underLoad(now: number): boolean {
    return this.load.check(this.queue.length, now) || this.extraLoad();
  }

  /**
   * A received initiation or response (the `length` bytes at `offset` of `buffer`, framing
   * already checked): MAC1 first, then into the handshake queue. Each is dropped and counted
   * when it fails ('bad-mac1') or does not fit ('handshake-queue-full').
   */
  enqueue(buffer: Uint8Array, offset: number, length: number, source: Endpoint): void {
    if (!this.macReceiver.mac1ValidAt(buffer, offset, length)) {
      this.context.drop('bad-mac1');
      return;
    }
    if (!this.queue.push(buffer, offset, length, source)) this.context.drop('handshake-queue-full');
  }

  /**
   * Processes the oldest queued message at the context's time (the caller checks that one is
   * queued): the under-load checks (`admitted`), then the handshake itself.
   */
  processNext(): void {
    const depth = this.queue.length;
    const slot = this.queue.shift();
    if (slot < 0) return;
    const message = this.queue.messageAt(slot);
    const source = this.queue.sourceAt(slot);
    if (!this.admitted(message, source, depth)) return;
    if (message[0] === MESSAGE_INITIATION) this.receiveInitiation(message, source);
    else this.receiveResponse(message, source);
  }

  get identity(): StaticIdentity {
    return this.identityKeys;
  }

  /** Takes a new private key: the MAC1 key and cookie secret follow it. */
  setIdentity(privateKey: Uint8Array, now: number): void {
    this.identityKeys = { privateKey, publicKey: publicKeyFrom(privateKey) };
    this.macReceiver = new MacReceiver(this.identityKeys.publicKey, now, this.context.random, this.context.fillRandom);
  }

  /**
   * Sends an initiation to `peer`, unless one went out less than REKEY_TIMEOUT ago (a
   * `retransmit` by the timers skips that check).
   */
  initiate(peer: Peer, retransmit: boolean): void {
    const { timers: t, now } = this.context;
    if (peer.endpoint === undefined) return;
    if (!retransmit && now - peer.lastInitiationSentAt < t.rekeyTimeout) return; // rate limit
    const index = this.sessions.allocateIndex();
    const created = createInitiation(
      this.identityKeys,
      peer.publicKey,
      peer.presharedKey,
      index,
      this.context.wallClock(),
      this.context.random,
    );
    if (created === undefined) return;
    peer.macSender.seal(created.message, now);
    if (!this.context.outbox.push(created.message, peer.endpoint)) return; // full: the timer retries
    this.sessions.startHandshake(peer, created.state);
    if (peer.handshakeStartedAt < 0) peer.handshakeStartedAt = now;
    peer.lastInitiationSentAt = now;
    peer.lastSentAt = now;
    peer.retransmitJitter = Math.floor(((this.context.random(1)[0] as number) / 256) * t.jitterMax);
    this.context.counters.handshakesInitiated++;
  }

  /** An admitted initiation: the Diffie-Hellman work, and a response when it is from a peer we know. */
  private receiveInitiation(message: Uint8Array, source: Endpoint): void {
    const consumed = consumeInitiation(this.identityKeys, message);
    if (consumed === undefined) {
      this.context.drop('handshake-failed');
      return;
    }
    const peer = this.context.peersByKey.get(keyToHex(consumed.remoteStatic));
    if (peer === undefined) {
      this.context.drop('unknown-peer');
      return;
    }
    if (peer.lastInitiationTimestamp !== undefined && !tai64nAfter(consumed.timestamp, peer.lastInitiationTimestamp)) {
      this.context.drop('stale-timestamp');
      return;
    }
    const index = this.sessions.allocateIndex();
    const response = createResponse(consumed, peer.presharedKey, index, this.context.random);
    if (response === undefined) {
      this.context.drop('handshake-failed');
      return;
    }
    const now = this.context.now;
    peer.macSender.seal(response.message, now);
    if (!this.context.outbox.push(response.message, source)) return; // full: the initiator retransmits
    peer.lastInitiationTimestamp = consumed.timestamp;
    peer.endpoint = source;
    this.sessions.beginAsResponder(peer, response.keys);
    peer.lastReceivedAt = now;
    peer.unansweredDataSince = -1;
    peer.lastSentAt = now;
    // A response counts as a handshake message sent (wireguard-go's lastSentHandshake): our own
    // initiation waits REKEY_TIMEOUT, so staged packets wait for the initiator's confirmation
    // instead of crossing handshakes.
    peer.lastInitiationSentAt = now;
    // The handshake counts as complete (wg show's latest handshake) once the initiator confirms
    // it by using `next`: see confirmNext.
    this.context.counters.handshakesAnswered++;
  }

  /** An admitted response: completes our handshake in flight with that index, if any. */
  private receiveResponse(message: Uint8Array, source: Endpoint): void {
    const index = readUint32LE(message, 8);
    const entry = this.sessions.lookup(index);
    const peer = entry?.peer;
    if (peer === undefined || entry?.keypair !== undefined || peer.handshake?.localIndex !== index) {
      this.context.drop('unknown-index');
      return;
    }
    const keys = consumeResponse(this.identityKeys, peer.handshake, message);
    if (keys === undefined) {
      this.context.drop('handshake-failed');
      return;
    }
    peer.handshake = undefined;
    peer.handshakeStartedAt = -1;
    peer.endpoint = source;
    const keypair = this.sessions.beginAsInitiator(peer, keys);
    peer.lastReceivedAt = this.context.now;
    peer.unansweredDataSince = -1;
    peer.lastHandshakeWallMs = this.context.wallClock();
    this.context.counters.handshakesCompleted++;
    // Send what waited for this session; with nothing to send, a keepalive confirms it to the
    // responder (which may not send on it before hearing from us).
    if (peer.staged.length === 0) this.sessions.sendKeepalive(peer, keypair);
    else this.sessions.sendStaged(peer, keypair);
  }

  /**
   * After sending on `keypair`: a new handshake once it carried REKEY_AFTER_MESSAGES (either side,
   * as wireguard-go's keepKeyFreshSending) or, for the initiator only, once it is REKEY_AFTER_TIME old.
   */
  keepFreshAfterSending(peer: Peer, keypair: Keypair): void {
    const t = this.context.timers;
    if (
      keypair.sendCounter > t.rekeyAfterMessages ||
      (keypair.keys.isInitiator && this.context.now - keypair.createdAt >= t.rekeyAfterTime)
    ) {
      this.initiate(peer, false);
    }
  }

  /** After data came in: as initiator, the next handshake starts before the current keypair expires (whitepaper 6.2). */
  keepFreshAfterReceiving(peer: Peer): void {
    const current = peer.current;
    const t = this.context.timers;
    if (
      current?.keys.isInitiator &&
      this.context.now - current.createdAt >= t.rejectAfterTime - t.keepaliveTimeout - t.rekeyTimeout
    ) {
      this.initiate(peer, false);
    }
  }

  receiveCookieReply(message: Uint8Array): void {
    const entry = this.sessions.lookup(readUint32LE(message, 4));
    if (entry === undefined || !entry.peer.macSender.consumeCookieReply(message, this.context.now))
      this.context.drop('bad-cookie-reply');
  }

  /**
   * The initiator used our `next` keypair: the handshake is confirmed. It counts as complete, and
   * packets staged meanwhile go out at once on the new keypair (wireguard-go: ReceivedWithKeypair,
   * then SendStagedPackets).
   */
  confirmNext(peer: Peer): void {
    const next = this.sessions.confirmNext(peer);
    peer.lastHandshakeWallMs = this.context.wallClock();
    this.context.counters.handshakesCompleted++;
    if (peer.staged.length > 0) this.sessions.sendStaged(peer, next);
  }

  /**
   * The checks between the queue and any Diffie-Hellman work (MAC1 was checked on arrival). Not
   * under load: none. Under load (`depth` is the queue's as the message was taken): a valid MAC2,
   * that is a cookie bound to the sender's address (without one the sender gets a cookie reply
   * and the message is dropped), then a token of the sender's address. True when it may go on.
   */
  private admitted(message: Uint8Array, source: Endpoint, depth: number): boolean {
    const now = this.context.now;
    if (!(this.load.check(depth, now) || this.extraLoad())) return true;
    const bytes = endpointCookieSource(source, this.cookieSourceScratch);
    if (bytes === undefined) {
      this.context.drop('bad-source');
      return false;
    }
    if (!this.macReceiver.mac2Valid(message, bytes, now)) {
      const outbox = this.context.outbox;
      const at = outbox.reserve(COOKIE_REPLY_LENGTH, source);
      if (at >= 0) {
        this.macReceiver.cookieReplyInto(message, bytes, now, outbox.buffer, at);
        this.context.counters.cookiesSent++;
      }
      this.context.drop('needs-cookie');
      return false;
    }
    switch (this.rateLimiter.allow(bytes, now, bytes.length - 2)) {
      case 'allowed':
        return true;
      case 'limited':
        this.context.drop('ratelimited');
        return false;
      case 'table-full':
        this.context.drop('ratelimit-table-full');
        return false;
    }
  }
}
