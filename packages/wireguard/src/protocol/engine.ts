// The WireGuard engine, sans-IO: batches of TUN packets and UDP datagrams in, batches out, with an
// injected clock and random source. It routes by allowed IPs, seals and opens transport data,
// runs handshakes (initiator and responder), cookies, keypair rotation and the timers. The Device
// (../device/device.ts) feeds it from a Tun and a Bind; tests feed it directly.

import { randomBytes } from 'node:crypto';
import { ipTotalLengthAt, type PacketBatch } from '@tunkit/tun-core';
import type { Endpoint } from '../bind/bind.js';
import { type AeadBackend, AeadJobs, defaultAead } from './aead-batch.js';
import { AllowedIps } from './allowed-ips.js';
import { TRANSPORT_HEADER_LENGTH } from './constants.js';
import { MacReceiver } from './cookie.js';
import { TAG_LENGTH } from './crypto.js';
import { type DropCounters, type DropReason, emptyDropCounters } from './drops.js';
import { endpointCookieSource } from './endpoint-address.js';
import {
  consumeInitiation,
  consumeResponse,
  createInitiation,
  createResponse,
  type StaticIdentity,
} from './handshake.js';
import { keyToHex, publicKeyFrom } from './keys.js';
import { messageTypeAt, readUint32LE } from './messages.js';
import { type Keypair, newKeypair, Peer, type PeerConfig, STAGED_LIMIT } from './peer.js';
import { prepareInPlace, SEAL_HEADROOM, SEAL_TAILROOM, sealInto } from './seal.js';
import { tai64nAfter } from './tai64n.js';
import { DEFAULT_TIMERS, type TimerSettings } from './timers.js';

export interface EngineOptions {
  privateKey: Uint8Array;
  /** Tunnel MTU: plaintext is padded to 16 bytes but never beyond it. */
  mtu: number;
  timers?: Partial<TimerSettings>;
  /** Monotonic milliseconds (default performance.now). */
  now?: () => number;
  /** Wall-clock milliseconds, for handshake timestamps and `wg show` (default Date.now). */
  wallNow?: () => number;
  random?: (n: number) => Uint8Array;
  /** True while the device is under load: initiations then need a valid MAC2 (a cookie). */
  underLoad?: () => boolean;
  /**
   * Deliver packets from one peer addressed to another peer's allowed IPs (default true, as
   * WireGuard does; the kernel then routes them back into the tunnel). A gateway that keeps its
   * clients apart sets false: such packets are dropped and counted as 'peer-to-peer'.
   */
  allowPeerToPeer?: boolean;
  /** Batch ChaCha20-Poly1305 (default: the native addon when built, else node:crypto). */
  aead?: AeadBackend;
}

export interface EngineCounters {
  handshakesInitiated: number;
  handshakesCompleted: number;
  handshakesAnswered: number;
  keepalivesSent: number;
  cookiesSent: number;
}

interface IndexEntry {
  peer: Peer;
  keypair?: Keypair;
}

const EMPTY = new Uint8Array(0);

export class Engine {
  readonly allowedIps = new AllowedIps<Peer>();
  readonly drops: DropCounters = emptyDropCounters();
  readonly counters: EngineCounters = {
    handshakesInitiated: 0,
    handshakesCompleted: 0,
    handshakesAnswered: 0,
    keepalivesSent: 0,
    cookiesSent: 0,
  };
  readonly timers: TimerSettings;
  mtu: number;
  allowPeerToPeer: boolean;
  private identity: StaticIdentity;
  private macReceiver: MacReceiver;
  private readonly peersByKey = new Map<string, Peer>();
  private readonly indices = new Map<number, IndexEntry>();
  private readonly clock: () => number;
  private readonly wallClock: () => number;
  private readonly random: (n: number) => Uint8Array;
  private readonly underLoad: () => boolean;
  private readonly nonce = Buffer.alloc(12);
  private readonly aead: AeadBackend;
  private sealJobs = new AeadJobs(128);
  private openJobs = new AeadJobs(128);
  /** Per open job: what to do once it authenticated (parallel to openJobs, reused). */
  private readonly openKeypairs: Keypair[] = [];
  private readonly openPeers: Peer[] = [];
  private readonly openSources: Endpoint[] = [];
  private readonly openCounters: number[] = [];
  private readonly openSizes: number[] = [];

  constructor(options: EngineOptions) {
    this.mtu = options.mtu;
    this.allowPeerToPeer = options.allowPeerToPeer ?? true;
    this.aead = options.aead ?? defaultAead();
    this.timers = { ...DEFAULT_TIMERS, ...options.timers };
    this.clock = options.now ?? (() => performance.now());
    this.wallClock = options.wallNow ?? Date.now;
    this.random = options.random ?? ((n) => randomBytes(n));
    this.underLoad = options.underLoad ?? (() => false);
    this.identity = { privateKey: options.privateKey, publicKey: publicKeyFrom(options.privateKey) };
    this.macReceiver = new MacReceiver(this.identity.publicKey, this.clock(), this.random);
  }

  get publicKey(): Uint8Array {
    return this.identity.publicKey;
  }

  get privateKey(): Uint8Array {
    return this.identity.privateKey;
  }

  /**
   * Replaces the private key: every session is dropped (they were bound to the old key). The same
   * key again changes nothing (as wireguard-go), so `wg syncconf` does not reset every tunnel.
   * Returns whether the key changed.
   */
  setPrivateKey(privateKey: Uint8Array): boolean {
    if (equalBytes(privateKey, this.identity.privateKey)) return false;
    this.identity = { privateKey, publicKey: publicKeyFrom(privateKey) };
    this.macReceiver = new MacReceiver(this.identity.publicKey, this.clock(), this.random);
    for (const peer of this.peersByKey.values()) this.clearSessions(peer);
    return true;
  }

  peers(): IterableIterator<Peer> {
    return this.peersByKey.values();
  }

  peer(publicKey: Uint8Array): Peer | undefined {
    return this.peersByKey.get(keyToHex(publicKey));
  }

  /** Adds a peer (or returns the existing one with that key) and maps its allowed IPs to it. */
  addPeer(config: PeerConfig, allowedIps: readonly string[] = []): Peer {
    const key = keyToHex(config.publicKey);
    const peer = this.peersByKey.get(key) ?? new Peer(config);
    this.peersByKey.set(key, peer);
    for (const prefix of allowedIps) this.allowedIps.insert(prefix, peer);
    return peer;
  }

  removePeer(peer: Peer): void {
    this.clearSessions(peer);
    this.allowedIps.removeValue(peer);
    this.peersByKey.delete(keyToHex(peer.publicKey));
  }

  // ---- outbound: packets read from the TUN ----

  /**
   * Routes each packet of `packets` by destination and seals it for its peer. When `packets` has
   * SEAL_HEADROOM/SEAL_TAILROOM around each packet, sealing happens in place: on return `packets`
   * holds just the sealed datagrams (its offset/length table compacted, no bytes moved) with their
   * endpoints in `to`. Otherwise the datagrams are appended to `out` and `packets` is emptied.
   * Handshake initiations always go to `out` (endpoints in `outTo`). Packets for a peer without a
   * session are copied to its bounded staging queue and a handshake starts.
   */
  sealBatch(packets: PacketBatch, to: Endpoint[], out: PacketBatch, outTo: Endpoint[]): void {
    const now = this.clock();
    const inPlace = packets.headroom >= SEAL_HEADROOM && packets.tailroom >= SEAL_TAILROOM;
    if (this.sealJobs.capacity < packets.length) this.sealJobs = new AeadJobs(packets.capacity);
    const jobs = this.sealJobs;
    jobs.clear();
    let kept = 0;
    for (let i = 0; i < packets.length; i++) {
      const offset = packets.offsets[i] as number;
      const length = packets.lengths[i] as number;
      const peer = this.allowedIps.lookupAt(packets.buffer, offset, length, 'destination');
      if (peer === undefined) {
        this.drop('no-route');
        continue;
      }
      if (peer.endpoint === undefined) {
        this.drop('no-endpoint');
        continue;
      }
      const keypair = this.sendKeypair(peer, now);
      if (keypair === undefined) {
        this.stage(peer, packets.buffer, offset, length);
        this.initiate(peer, out, outTo, now, false);
        continue;
      }
      if (inPlace) {
        const counter = keypair.sendCounter;
        const padded = prepareInPlace(packets.buffer, offset, length, keypair.keys.remoteIndex, counter, this.mtu);
        jobs.add(keypair.keys.sendKey, counter, offset, padded);
        const size = SEAL_HEADROOM + padded + TAG_LENGTH;
        packets.offsets[kept] = offset - SEAL_HEADROOM;
        packets.lengths[kept] = size;
        to[kept] = peer.endpoint;
        kept++;
        this.afterSeal(peer, keypair, length, size, now);
      } else if (!this.sealData(peer, keypair, packets.buffer.subarray(offset, offset + length), out, outTo, now)) {
        // (the view above is on the copying path only, for batches without headroom)
        this.stage(peer, packets.buffer, offset, length); // `out` is full: the packet waits like one without a session
        this.initiate(peer, out, outTo, now, false);
        continue;
      }
      this.keepKeyFreshSending(peer, keypair, out, outTo, now);
    }
    if (jobs.count > 0) this.aead.seal(packets.buffer, jobs); // one call for the whole batch
    packets.length = kept;
  }

  /**
   * After sending on `keypair`: a new handshake once it carried REKEY_AFTER_MESSAGES (either side,
   * as wireguard-go's keepKeyFreshSending) or, for the initiator only, once it is REKEY_AFTER_TIME old.
   */
  private keepKeyFreshSending(peer: Peer, keypair: Keypair, out: PacketBatch, to: Endpoint[], now: number): void {
    if (
      keypair.sendCounter > this.timers.rekeyAfterMessages ||
      (keypair.keys.isInitiator && now - keypair.createdAt >= this.timers.rekeyAfterTime)
    ) {
      this.initiate(peer, out, to, now, false);
    }
  }

  // ---- inbound: datagrams received from the Bind ----

  /**
   * Processes received datagrams: transport data is opened, checked and appended to `tunOut`;
   * handshake and cookie messages are answered into `out`/`to`. Anything that fails to parse or
   * authenticate is dropped and counted, never thrown, never answered (but for cookie replies to
   * valid-MAC1 initiations under load).
   */
  receiveBatch(
    datagrams: PacketBatch,
    from: readonly Endpoint[],
    tunOut: PacketBatch,
    out: PacketBatch,
    to: Endpoint[],
  ): void {
    const now = this.clock();
    if (this.openJobs.capacity < datagrams.length) this.openJobs = new AeadJobs(datagrams.capacity);
    this.openJobs.clear();
    for (let i = 0; i < datagrams.length; i++) {
      const source = from[i];
      if (source === undefined) {
        this.drop('no-source');
        continue;
      }
      const offset = datagrams.offsets[i] as number;
      const length = datagrams.lengths[i] as number;
      const type = messageTypeAt(datagrams.buffer, offset, length);
      if (type === 4) {
        this.queueTransport(datagrams.buffer, offset, length, source, now);
        continue;
      }
      // Transport data queued so far is opened first: a handshake message may change the keys.
      this.openQueued(datagrams.buffer, tunOut, out, to, now);
      // Handshake messages are rare and costly anyway: a view per message is fine here.
      const datagram = datagrams.buffer.subarray(offset, offset + length);
      switch (type) {
        case 1:
          this.receiveInitiation(datagram, source, out, to, now);
          break;
        case 2:
          this.receiveResponse(datagram, source, out, to, now);
          break;
        case 3:
          this.receiveCookieReply(datagram, now);
          break;
        default:
          this.drop('malformed');
      }
    }
    this.openQueued(datagrams.buffer, tunOut, out, to, now);
  }

  /** Runs the timers: retransmissions, keepalives, rekeys, key expiry. Call every ~100 ms. */
  tick(out: PacketBatch, to: Endpoint[]): void {
    const now = this.clock();
    const t = this.timers;
    for (const peer of this.peersByKey.values()) {
      if (peer.handshake !== undefined && now - peer.lastInitiationSentAt >= t.rekeyTimeout + peer.retransmitJitter) {
        if (now - peer.handshakeStartedAt >= t.rekeyAttemptTime) {
          this.drops['handshake-timeout'] += peer.staged.length;
          peer.staged.length = 0;
          this.forgetHandshake(peer);
          peer.handshakeStartedAt = -1;
        } else {
          this.initiate(peer, out, to, now, true);
        }
      }
      const keypair = this.sendKeypair(peer, now);
      if (peer.owesKeepalive && now - peer.lastDataReceivedAt >= t.keepaliveTimeout && keypair !== undefined) {
        this.sendKeepalive(peer, keypair, out, to, now);
      }
      // Data went out and nothing authenticated came back for unansweredDataTimeout since the
      // first such packet (not the last: steady traffic to a restarted peer must not defer it).
      if (peer.unansweredDataSince >= 0 && now - peer.unansweredDataSince >= t.unansweredDataTimeout) {
        peer.unansweredDataSince = -1; // once per silence
        this.initiate(peer, out, to, now, false);
      }
      if (peer.persistentKeepalive > 0 && now - peer.lastSentAt >= peer.persistentKeepalive * 1000) {
        if (keypair !== undefined) this.sendKeepalive(peer, keypair, out, to, now);
        else this.initiate(peer, out, to, now, false);
      }
      if (peer.current !== undefined && now - peer.current.createdAt >= 3 * t.rejectAfterTime) this.clearSessions(peer);
    }
  }

  // ---- transport data ----

  private sendKeypair(peer: Peer, now: number): Keypair | undefined {
    const k = peer.current;
    if (k === undefined) return undefined;
    if (now - k.createdAt >= this.timers.rejectAfterTime || k.sendCounter >= this.timers.rejectAfterMessages)
      return undefined;
    return k;
  }

  private sealData(
    peer: Peer,
    keypair: Keypair,
    packet: Uint8Array,
    out: PacketBatch,
    to: Endpoint[],
    now: number,
  ): boolean {
    const index = out.length;
    if (
      !sealInto(out, keypair.keys.sendKey, keypair.keys.remoteIndex, keypair.sendCounter, packet, this.mtu, this.nonce)
    )
      return false;
    to[index] = peer.endpoint as Endpoint;
    this.afterSeal(peer, keypair, packet.length, out.lengths[index] as number, now);
    return true;
  }

  /** Bookkeeping once a packet of `plaintextLength` bytes went out as a `sealedLength` datagram. */
  private afterSeal(peer: Peer, keypair: Keypair, plaintextLength: number, sealedLength: number, now: number): void {
    keypair.sendCounter++;
    peer.txBytes += sealedLength;
    peer.lastSentAt = now;
    if (plaintextLength > 0) {
      if (peer.unansweredDataSince < 0) peer.unansweredDataSince = now;
      peer.owesKeepalive = false;
    }
  }

  private sendKeepalive(peer: Peer, keypair: Keypair, out: PacketBatch, to: Endpoint[], now: number): void {
    if (this.sealData(peer, keypair, EMPTY, out, to, now)) {
      peer.owesKeepalive = false;
      this.counters.keepalivesSent++;
    }
  }

  /** Checks a transport message's header and queues its opening (one AEAD call per batch). */
  private queueTransport(buffer: Uint8Array, offset: number, length: number, source: Endpoint, now: number): void {
    const entry = this.indices.get(readUint32LE(buffer, offset + 4));
    const keypair = entry?.keypair;
    if (entry === undefined || keypair === undefined) {
      this.drop('unknown-index');
      return;
    }
    if (now - keypair.createdAt >= this.timers.rejectAfterTime) {
      this.drop('expired-keypair');
      return;
    }
    const counter = readUint32LE(buffer, offset + 8) + readUint32LE(buffer, offset + 12) * 2 ** 32;
    // REJECT_AFTER_MESSAGES holds on receive too (wireguard-go's replay filter takes it as limit).
    if (counter >= this.timers.rejectAfterMessages) {
      this.drop('counter-limit');
      return;
    }
    const jobs = this.openJobs;
    const i = jobs.add(
      keypair.keys.receiveKey,
      counter,
      offset + TRANSPORT_HEADER_LENGTH,
      length - TRANSPORT_HEADER_LENGTH - TAG_LENGTH,
    );
    this.openKeypairs[i] = keypair;
    this.openPeers[i] = entry.peer;
    this.openSources[i] = source;
    this.openCounters[i] = counter;
    this.openSizes[i] = length;
  }

  /** Opens every queued transport message at once, then handles each in order. */
  private openQueued(buffer: Uint8Array, tunOut: PacketBatch, out: PacketBatch, to: Endpoint[], now: number): void {
    const jobs = this.openJobs;
    if (jobs.count === 0) return;
    this.aead.open(buffer, jobs);
    for (let i = 0; i < jobs.count; i++) {
      if (jobs.ok[i] !== 1) {
        this.drop('decrypt-failed');
        continue;
      }
      this.receiveOpened(
        this.openPeers[i] as Peer,
        this.openKeypairs[i] as Keypair,
        this.openSources[i] as Endpoint,
        this.openCounters[i] as number,
        this.openSizes[i] as number,
        buffer,
        jobs.offsets[i] as number,
        jobs.lengths[i] as number,
        tunOut,
        out,
        to,
        now,
      );
    }
    jobs.clear();
  }

  /** A transport message that authenticated: replay check, roaming, timers, the inner packet. */
  private receiveOpened(
    peer: Peer,
    keypair: Keypair,
    source: Endpoint,
    counter: number,
    datagramLength: number,
    buffer: Uint8Array,
    plainOffset: number,
    plainLength: number,
    tunOut: PacketBatch,
    out: PacketBatch,
    to: Endpoint[],
    now: number,
  ): void {
    if (!keypair.replay.accept(counter)) {
      this.drop('replayed');
      return;
    }
    peer.endpoint = source; // roaming: the latest authenticated source wins
    if (keypair === peer.next) this.promoteNext(peer, out, to, now);
    peer.lastReceivedAt = now;
    peer.unansweredDataSince = -1;
    peer.rxBytes += datagramLength;
    if (plainLength === 0) return; // keepalive
    const length = ipTotalLengthAt(buffer, plainOffset, plainLength);
    if (length < 0) {
      this.drop('bad-inner-packet');
      return;
    }
    // The Tun refuses a packet over its MTU (TunPacketError): a peer must not be able to make the
    // Device's write fail, so such a packet is dropped here, counted.
    if (length > this.mtu) {
      this.drop('inner-packet-too-big');
      return;
    }
    if (this.allowedIps.lookupAt(buffer, plainOffset, length, 'source') !== peer) {
      this.drop('disallowed-source');
      return;
    }
    if (!this.allowPeerToPeer && this.allowedIps.lookupAt(buffer, plainOffset, length, 'destination') !== undefined) {
      this.drop('peer-to-peer');
      return;
    }
    const view = tunOut.reserve(length);
    if (view === undefined) {
      this.drop('tun-batch-full');
      return;
    }
    copyBytes(buffer, plainOffset, length, view);
    peer.lastDataReceivedAt = now;
    peer.owesKeepalive = true;
    // As initiator, start the next handshake before the current keypair expires (whitepaper 6.2).
    const current = peer.current;
    const t = this.timers;
    if (
      current?.keys.isInitiator &&
      now - current.createdAt >= t.rejectAfterTime - t.keepaliveTimeout - t.rekeyTimeout
    ) {
      this.initiate(peer, out, to, now, false);
    }
  }

  // ---- handshakes ----

  private initiate(peer: Peer, out: PacketBatch, to: Endpoint[], now: number, retransmit: boolean): void {
    if (peer.endpoint === undefined) return;
    if (!retransmit && peer.handshake !== undefined && now - peer.lastInitiationSentAt < this.timers.rekeyTimeout)
      return;
    if (!retransmit && now - peer.lastInitiationSentAt < this.timers.rekeyTimeout) return; // rate limit
    const index = this.allocateIndex();
    const created = createInitiation(
      this.identity,
      peer.publicKey,
      peer.presharedKey,
      index,
      this.wallClock(),
      this.random,
    );
    if (created === undefined) return;
    peer.macSender.seal(created.message, now);
    const slot = out.length;
    if (!out.push(created.message)) return; // out full: the timer retries
    to[slot] = peer.endpoint;
    this.forgetHandshake(peer);
    peer.handshake = created.state;
    this.indices.set(index, { peer });
    if (peer.handshakeStartedAt < 0) peer.handshakeStartedAt = now;
    peer.lastInitiationSentAt = now;
    peer.lastSentAt = now;
    peer.retransmitJitter = Math.floor(((this.random(1)[0] as number) / 256) * this.timers.jitterMax);
    this.counters.handshakesInitiated++;
  }

  private underLoadCheck(
    message: Uint8Array,
    source: Endpoint,
    out: PacketBatch,
    to: Endpoint[],
    now: number,
  ): boolean {
    if (!this.underLoad()) return true;
    const bytes = endpointCookieSource(source);
    if (bytes === undefined) {
      this.drop('bad-source');
      return false;
    }
    if (this.macReceiver.mac2Valid(message, bytes, now)) return true;
    const slot = out.length;
    if (out.push(this.macReceiver.cookieReply(message, bytes, now))) {
      to[slot] = source;
      this.counters.cookiesSent++;
    }
    this.drop('needs-cookie');
    return false;
  }

  private receiveInitiation(
    message: Uint8Array,
    source: Endpoint,
    out: PacketBatch,
    to: Endpoint[],
    now: number,
  ): void {
    if (!this.macReceiver.mac1Valid(message)) {
      this.drop('bad-mac1');
      return;
    }
    if (!this.underLoadCheck(message, source, out, to, now)) return;
    const consumed = consumeInitiation(this.identity, message);
    if (consumed === undefined) {
      this.drop('handshake-failed');
      return;
    }
    const peer = this.peersByKey.get(keyToHex(consumed.remoteStatic));
    if (peer === undefined) {
      this.drop('unknown-peer');
      return;
    }
    if (peer.lastInitiationTimestamp !== undefined && !tai64nAfter(consumed.timestamp, peer.lastInitiationTimestamp)) {
      this.drop('stale-timestamp');
      return;
    }
    const index = this.allocateIndex();
    const response = createResponse(consumed, peer.presharedKey, index, this.random);
    if (response === undefined) {
      this.drop('handshake-failed');
      return;
    }
    peer.macSender.seal(response.message, now);
    const slot = out.length;
    if (!out.push(response.message)) return; // out full: the initiator retransmits
    to[slot] = source;
    peer.lastInitiationTimestamp = consumed.timestamp;
    // As wireguard-go's BeginSymmetricSession for a responder: the new keypair waits as `next`
    // (not usable for sending until the initiator has used it), and `previous` is let go.
    if (peer.next !== undefined) this.indices.delete(peer.next.keys.localIndex);
    if (peer.previous !== undefined) this.indices.delete(peer.previous.keys.localIndex);
    peer.previous = undefined;
    peer.next = newKeypair(response.keys, now);
    this.indices.set(index, { peer, keypair: peer.next });
    peer.endpoint = source;
    peer.lastReceivedAt = now;
    peer.unansweredDataSince = -1;
    peer.lastSentAt = now;
    // A response counts as a handshake message sent (wireguard-go's lastSentHandshake): our own
    // initiation waits REKEY_TIMEOUT, so staged packets wait for the initiator's confirmation
    // instead of crossing handshakes.
    peer.lastInitiationSentAt = now;
    // The handshake counts as complete (wg show's latest handshake) once the initiator confirms
    // it by using `next`: see promoteNext.
    this.counters.handshakesAnswered++;
  }

  private receiveResponse(message: Uint8Array, source: Endpoint, out: PacketBatch, to: Endpoint[], now: number): void {
    if (!this.macReceiver.mac1Valid(message)) {
      this.drop('bad-mac1');
      return;
    }
    if (!this.underLoadCheck(message, source, out, to, now)) return;
    const index = readUint32LE(message, 8);
    const entry = this.indices.get(index);
    const peer = entry?.peer;
    if (peer === undefined || entry?.keypair !== undefined || peer.handshake?.localIndex !== index) {
      this.drop('unknown-index');
      return;
    }
    const keys = consumeResponse(this.identity, peer.handshake, message);
    if (keys === undefined) {
      this.drop('handshake-failed');
      return;
    }
    peer.handshake = undefined;
    peer.handshakeStartedAt = -1;
    const keypair = newKeypair(keys, now);
    this.indices.set(index, { peer, keypair });
    // Rotation as wireguard-go's BeginSymmetricSession for an initiator: an unconfirmed `next`
    // (from the peer's own crossing initiation) becomes `previous`, so packets the peer already
    // sealed on it still open; otherwise `current` does. The keypair pushed out is forgotten.
    if (peer.previous !== undefined) this.indices.delete(peer.previous.keys.localIndex);
    if (peer.next !== undefined) {
      if (peer.current !== undefined) this.indices.delete(peer.current.keys.localIndex);
      peer.previous = peer.next;
      peer.next = undefined;
    } else {
      peer.previous = peer.current;
    }
    peer.current = keypair;
    peer.endpoint = source;
    peer.lastReceivedAt = now;
    peer.unansweredDataSince = -1;
    peer.lastHandshakeWallMs = this.wallClock();
    this.counters.handshakesCompleted++;
    // Send what waited for this session; with nothing to send, a keepalive confirms it to the
    // responder (which may not send on it before hearing from us).
    if (peer.staged.length === 0) this.sendKeepalive(peer, keypair, out, to, now);
    else this.sendStaged(peer, keypair, out, to, now);
  }

  /** Seals the packets staged for `peer` into `out`; what does not fit stays staged, in order. */
  private sendStaged(peer: Peer, keypair: Keypair, out: PacketBatch, to: Endpoint[], now: number): void {
    let sent = 0;
    for (const packet of peer.staged) {
      if (!this.sealData(peer, keypair, packet, out, to, now)) break;
      sent++;
    }
    peer.staged.splice(0, sent);
  }

  private receiveCookieReply(message: Uint8Array, now: number): void {
    const entry = this.indices.get(readUint32LE(message, 4));
    if (entry === undefined || !entry.peer.macSender.consumeCookieReply(message, now)) this.drop('bad-cookie-reply');
  }

  /**
   * The initiator used our `next` keypair: the handshake is confirmed. `next` becomes `current`, the
   * old current `previous`; the handshake counts as complete, and packets staged meanwhile go out
   * at once on the new keypair (wireguard-go: ReceivedWithKeypair, then SendStagedPackets).
   */
  private promoteNext(peer: Peer, out: PacketBatch, to: Endpoint[], now: number): void {
    const next = peer.next as Keypair;
    if (peer.previous !== undefined) this.indices.delete(peer.previous.keys.localIndex);
    peer.previous = peer.current;
    peer.current = next;
    peer.next = undefined;
    peer.lastHandshakeWallMs = this.wallClock();
    this.counters.handshakesCompleted++;
    if (peer.staged.length > 0) this.sendStaged(peer, next, out, to, now);
  }

  // ---- bookkeeping ----

  /** Copies the `length`-byte packet at `offset` in `buffer` to the peer's bounded staging queue. */
  private stage(peer: Peer, buffer: Uint8Array, offset: number, length: number): void {
    if (peer.staged.length >= STAGED_LIMIT) {
      peer.staged.shift();
      this.drop('staged-overflow');
    }
    peer.staged.push(buffer.slice(offset, offset + length));
  }

  private forgetHandshake(peer: Peer): void {
    if (peer.handshake !== undefined) this.indices.delete(peer.handshake.localIndex);
    peer.handshake = undefined;
  }

  private clearSessions(peer: Peer): void {
    for (const k of [peer.previous, peer.current, peer.next])
      if (k !== undefined) this.indices.delete(k.keys.localIndex);
    peer.previous = peer.current = peer.next = undefined;
    this.forgetHandshake(peer);
  }

  private allocateIndex(): number {
    for (;;) {
      const bytes = this.random(4);
      const index = readUint32LE(bytes, 0);
      if (!this.indices.has(index)) return index;
    }
  }

  private drop(reason: DropReason): void {
    this.drops[reason]++;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Copies `length` bytes at `offset` of `from` to the start of `to` without making a view of the
 * source (Buffer's copy takes any Uint8Array as source: one memcpy, no allocation).
 */
const bufferCopy = Buffer.prototype.copy;
function copyBytes(from: Uint8Array, offset: number, length: number, to: Uint8Array): void {
  bufferCopy.call(from, to, 0, offset, offset + length);
}
