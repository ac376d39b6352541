// The Engine's handshake messages: initiating (and retransmitting), answering an initiation,
// completing on a response, taking a cookie reply, and confirming a responder's session when the
// initiator first uses it. Cheap checks come first: MAC1, then under load a valid MAC2 (else a
// cookie reply and nothing more), and only then the Diffie-Hellman work. The Noise messages
// themselves are built and read by handshake.ts; the keypairs they yield are rotated by sessions.ts.

import type { Endpoint } from '../bind/bind.js';
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
import { keyToHex, publicKeyFrom } from './keys.js';
import { readUint32LE } from './messages.js';
import type { Peer } from './peer.js';
import type { Sessions } from './sessions.js';
import { tai64nAfter } from './tai64n.js';

export class Handshakes {
  private identityKeys: StaticIdentity;
  private macReceiver: MacReceiver;

  constructor(
    private readonly context: EngineContext,
    private readonly sessions: Sessions,
    privateKey: Uint8Array,
    /** True while the device is under load: initiations then need a valid MAC2 (a cookie). */
    private readonly underLoad: () => boolean,
    now: number,
  ) {
    this.identityKeys = { privateKey, publicKey: publicKeyFrom(privateKey) };
    this.macReceiver = new MacReceiver(this.identityKeys.publicKey, now, context.random);
  }

  get identity(): StaticIdentity {
    return this.identityKeys;
  }

  /** Takes a new private key: the MAC1 key and cookie secret follow it. */
  setIdentity(privateKey: Uint8Array, now: number): void {
    this.identityKeys = { privateKey, publicKey: publicKeyFrom(privateKey) };
    this.macReceiver = new MacReceiver(this.identityKeys.publicKey, now, this.context.random);
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

  receiveInitiation(message: Uint8Array, source: Endpoint): void {
    if (!this.macsValid(message, source)) return;
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
    this.sessions.beginAsResponder(peer, response.keys);
    peer.endpoint = source;
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

  receiveResponse(message: Uint8Array, source: Endpoint): void {
    if (!this.macsValid(message, source)) return;
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
    const keypair = this.sessions.beginAsInitiator(peer, keys);
    peer.endpoint = source;
    peer.lastReceivedAt = this.context.now;
    peer.unansweredDataSince = -1;
    peer.lastHandshakeWallMs = this.context.wallClock();
    this.context.counters.handshakesCompleted++;
    // Send what waited for this session; with nothing to send, a keepalive confirms it to the
    // responder (which may not send on it before hearing from us).
    if (peer.staged.length === 0) this.sessions.sendKeepalive(peer, keypair);
    else this.sessions.sendStaged(peer, keypair);
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
   * The checks before any Diffie-Hellman work: MAC1 (the message is meant for us), then, under
   * load, MAC2 (a cookie bound to the sender's address; without one the sender gets a cookie reply
   * and the message is dropped). True when the message may go on.
   */
  private macsValid(message: Uint8Array, source: Endpoint): boolean {
    if (!this.macReceiver.mac1Valid(message)) {
      this.context.drop('bad-mac1');
      return false;
    }
    if (!this.underLoad()) return true;
    const bytes = endpointCookieSource(source);
    if (bytes === undefined) {
      this.context.drop('bad-source');
      return false;
    }
    const now = this.context.now;
    if (this.macReceiver.mac2Valid(message, bytes, now)) return true;
    if (this.context.outbox.push(this.macReceiver.cookieReply(message, bytes, now), source)) {
      this.context.counters.cookiesSent++;
    }
    this.context.drop('needs-cookie');
    return false;
  }
}
