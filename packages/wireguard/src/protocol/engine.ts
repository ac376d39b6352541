// The WireGuard engine, sans-IO: batches of TUN packets and UDP datagrams in, batches out, with an
// injected clock and random source. This file is the dispatcher and the data path: it routes TUN
// packets by allowed IPs and seals them, sorts received datagrams by message type, and opens
// transport data in one AEAD call per batch. Handshake messages wait in a bounded queue and are
// processed apart, a budget at a time (processHandshakes), so a flood of them never holds up the
// data path. The rest is by concern, each its own file:
// handshake messages (engine-handshake.ts), keypairs and sending on them (sessions.ts), the timers
// (timers.ts), and what they share (engine-context.ts: settings, counters, and each call's time and
// Outbox, outbox.ts). The Device (../device/device.ts) feeds it from a Tun and a Bind; tests feed
// it directly.

import { randomBytes, randomFillSync } from 'node:crypto';
import { ipTotalLengthAt, type PacketBatch } from '@tunkit/tun-core';
import type { Endpoint } from '../bind/bind.js';
import { type AeadBackend, AeadJobs, defaultAead } from './aead-batch.js';
import { AllowedIps } from './allowed-ips.js';
import { DEFAULT_TIMERS, type TimerSettings, TRANSPORT_HEADER_LENGTH } from './constants.js';
import { TAG_LENGTH } from './crypto.js';
import type { DropCounters } from './drops.js';
import { EngineContext, type EngineCounters } from './engine-context.js';
import { Handshakes } from './engine-handshake.js';
import { keyToHex } from './keys.js';
import { messageTypeAt, readUint32LE } from './messages.js';
import { type Keypair, Peer, type PeerConfig } from './peer.js';
import type { RateLimiter } from './ratelimiter.js';
import { prepareInPlace, SEAL_HEADROOM, SEAL_TAILROOM } from './seal.js';
import { Sessions, takeSendCounter } from './sessions.js';
import { Timers } from './timers.js';

export type { EngineCounters } from './engine-context.js';

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
  /**
   * A load signal of the host's own, or a test's: while it says true the Engine is under load
   * (handshakes then need a valid MAC2, a cookie, and are rate-limited per source) whatever its
   * handshake queue holds. Without it, load is the queue's depth alone (load-gauge.ts).
   */
  underLoad?: () => boolean;
  /** Handshake messages that may wait to be processed (default 1,024); more are dropped, counted. */
  handshakeQueue?: number;
  /** The per-source rate limiter for handshakes under load (default: 20/s, burst 5, 16,384 sources). */
  rateLimiter?: RateLimiter;
  /**
   * Deliver packets from one peer addressed to another peer's allowed IPs (default true, as
   * WireGuard does; the kernel then routes them back into the tunnel). A gateway that keeps its
   * clients apart sets false: such packets are dropped and counted as 'peer-to-peer'.
   */
  allowPeerToPeer?: boolean;
  /** Batch ChaCha20-Poly1305 (default: the native addon when built, else node:crypto). */
  aead?: AeadBackend;
}

export class Engine {
  readonly allowedIps = new AllowedIps<Peer>();
  readonly drops: DropCounters;
  readonly counters: EngineCounters;
  readonly timers: TimerSettings;
  allowPeerToPeer: boolean;
  private readonly context: EngineContext;
  private readonly sessions: Sessions;
  private readonly handshakes: Handshakes;
  private readonly timerRules: Timers;
  private readonly clock: () => number;
  private readonly aead: AeadBackend;
  private sealJobs = new AeadJobs(128);
  private openJobs = new AeadJobs(128);
  /** Per open job: what to do once it authenticated (parallel to openJobs, reused). */
  private readonly openKeypairs: Keypair[] = [];
  private readonly openPeers: Peer[] = [];
  private readonly openSources: Endpoint[] = [];
  private readonly openCounters: number[] = [];
  private readonly openSizes: number[] = [];
  /** receiveBatch in place: how many inner packets this call has pointed `datagrams`' table at. */
  private deliveredInPlace = 0;

  constructor(options: EngineOptions) {
    this.allowPeerToPeer = options.allowPeerToPeer ?? true;
    this.aead = options.aead ?? defaultAead();
    this.timers = { ...DEFAULT_TIMERS, ...options.timers };
    this.clock = options.now ?? (() => performance.now());
    const random = options.random ?? ((n) => randomBytes(n));
    // An injected source (tests) fills through `random`; the default fills in place.
    const fillRandom = options.random ? undefined : (into: Uint8Array) => void randomFillSync(into);
    this.context = new EngineContext(this.timers, options.mtu, options.wallNow ?? Date.now, random, fillRandom);
    this.drops = this.context.drops;
    this.counters = this.context.counters;
    this.sessions = new Sessions(this.context);
    this.handshakes = new Handshakes(
      this.context,
      this.sessions,
      options.privateKey,
      {
        ...(options.handshakeQueue !== undefined ? { queue: options.handshakeQueue } : {}),
        ...(options.rateLimiter !== undefined ? { rateLimiter: options.rateLimiter } : {}),
        ...(options.underLoad !== undefined ? { extraLoad: options.underLoad } : {}),
      },
      this.clock(),
    );
    this.timerRules = new Timers(this.context, this.sessions, this.handshakes);
  }

  /**
   * Told synchronously whenever a peer's keypairs or endpoint change (sessions rotated or cleared,
   * a handshake or an authenticated packet from a new source): how a native data plane follows
   * the Engine (device/data-plane.ts). Undefined: nobody listens.
   */
  get onPeerChange(): ((peer: Peer) => void) | undefined {
    return this.context.onPeerChange;
  }

  set onPeerChange(listener: ((peer: Peer) => void) | undefined) {
    this.context.onPeerChange = listener;
  }

  /** Tunnel MTU: plaintext is padded to 16 bytes but never beyond it. */
  get mtu(): number {
    return this.context.mtu;
  }

  set mtu(mtu: number) {
    this.context.mtu = mtu;
  }

  get publicKey(): Uint8Array {
    return this.handshakes.identity.publicKey;
  }

  get privateKey(): Uint8Array {
    return this.handshakes.identity.privateKey;
  }

  /**
   * Replaces the private key: every session is dropped (they were bound to the old key). The same
   * key again changes nothing (as wireguard-go), so `wg syncconf` does not reset every tunnel.
   * Returns whether the key changed.
   */
  setPrivateKey(privateKey: Uint8Array): boolean {
    if (equalBytes(privateKey, this.privateKey)) return false;
    this.handshakes.setIdentity(privateKey, this.clock());
    for (const peer of this.context.peersByKey.values()) this.sessions.clear(peer);
    return true;
  }

  peers(): IterableIterator<Peer> {
    return this.context.peersByKey.values();
  }

  peer(publicKey: Uint8Array): Peer | undefined {
    return this.context.peersByKey.get(keyToHex(publicKey));
  }

  /** Adds a peer (or returns the existing one with that key) and maps its allowed IPs to it. */
  addPeer(config: PeerConfig, allowedIps: readonly string[] = []): Peer {
    const key = keyToHex(config.publicKey);
    const peer = this.context.peersByKey.get(key) ?? new Peer(config);
    this.context.peersByKey.set(key, peer);
    for (const prefix of allowedIps) this.allowedIps.insert(prefix, peer);
    return peer;
  }

  removePeer(peer: Peer): void {
    this.sessions.clear(peer);
    this.allowedIps.removeValue(peer);
    this.context.peersByKey.delete(keyToHex(peer.publicKey));
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
    this.context.begin(this.clock(), out, outTo);
    try {
      this.routeAndSeal(packets, to);
    } finally {
      this.context.outbox.seal(this.aead); // even after a throw: `out` never holds plaintext
    }
  }

  private routeAndSeal(packets: PacketBatch, to: Endpoint[]): void {
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
        this.context.drop('no-route');
        continue;
      }
      if (peer.endpoint === undefined) {
        this.context.drop('no-endpoint');
        continue;
      }
      const keypair = this.sessions.sendKeypair(peer);
      if (keypair === undefined) {
        this.sessions.stage(peer, packets.buffer, offset, length);
        this.handshakes.initiate(peer, false);
        continue;
      }
      if (inPlace) {
        const counter = takeSendCounter(keypair);
        if (counter >= this.timers.rejectAfterMessages) {
          this.sessions.stage(peer, packets.buffer, offset, length); // spent meanwhile (a data plane's threads share it)
          this.handshakes.initiate(peer, false);
          continue;
        }
        const padded = prepareInPlace(packets.buffer, offset, length, keypair.keys, counter, this.mtu);
        jobs.add(keypair.keys.sendKey, counter, offset, padded);
        const size = SEAL_HEADROOM + padded + TAG_LENGTH;
        packets.offsets[kept] = offset - SEAL_HEADROOM;
        packets.lengths[kept] = size;
        to[kept] = peer.endpoint;
        kept++;
        this.sessions.afterSeal(peer, length, size);
      } else if (!this.sessions.send(peer, keypair, packets.buffer, offset, length)) {
        this.sessions.stage(peer, packets.buffer, offset, length); // `out` is full: the packet waits like one without a session
        this.handshakes.initiate(peer, false);
        continue;
      }
      this.handshakes.keepFreshAfterSending(peer, keypair);
    }
    if (jobs.count > 0) this.aead.seal(packets.buffer, jobs); // one call for the whole batch
    packets.length = kept;
  }

  // ---- inbound: datagrams received from the Bind ----

  /**
   * Processes received datagrams: transport data is opened, checked and appended to `tunOut`;
   * initiations and responses with a valid MAC1 go to the handshake queue (processHandshakes
   * answers them); cookie replies are taken at once. Anything that fails to parse or
   * authenticate is dropped and counted, never thrown, never answered (but for cookie replies to
   * valid-MAC1 initiations under load). `out`/`to` receive what this call sends (nothing today
   * but what the Outbox's users may add). With `tunOut` the same batch as `datagrams`, packets are
   * opened in place: on return `datagrams` holds just the inner packets (its offset/length table
   * rewritten to them, no bytes moved), as the Device hands them to the Tun.
   */
  receiveBatch(
    datagrams: PacketBatch,
    from: readonly Endpoint[],
    tunOut: PacketBatch,
    out: PacketBatch,
    to: Endpoint[],
  ): void {
    this.context.begin(this.clock(), out, to);
    this.deliveredInPlace = 0;
    try {
      this.sortAndOpen(datagrams, from, tunOut);
    } finally {
      this.context.outbox.seal(this.aead);
    }
    if (tunOut === datagrams) datagrams.length = this.deliveredInPlace;
  }

  private sortAndOpen(datagrams: PacketBatch, from: readonly Endpoint[], tunOut: PacketBatch): void {
    if (this.openJobs.capacity < datagrams.length) this.openJobs = new AeadJobs(datagrams.capacity);
    this.openJobs.clear();
    for (let i = 0; i < datagrams.length; i++) {
      const source = from[i];
      if (source === undefined) {
        this.context.drop('no-source');
        continue;
      }
      const offset = datagrams.offsets[i] as number;
      const length = datagrams.lengths[i] as number;
      const type = messageTypeAt(datagrams.buffer, offset, length);
      switch (type) {
        case 4:
          this.queueTransport(datagrams.buffer, offset, length, source);
          break;
        case 1:
        case 2:
          // MAC1 now, the rest later (processHandshakes): nothing here changes keys, so every
          // transport message of the batch is still opened in one AEAD call below.
          this.handshakes.enqueue(datagrams.buffer, offset, length, source);
          break;
        case 3:
          this.handshakes.receiveCookieReply(datagrams.buffer.subarray(offset, offset + length));
          break;
        default:
          this.context.drop('malformed');
      }
    }
    this.openQueued(datagrams, tunOut);
  }

  /** Initiations and responses waiting for processHandshakes. */
  get handshakesQueued(): number {
    return this.handshakes.queued;
  }

  /** Whether the Engine is under load now: handshakes then need a cookie and are rate-limited. */
  get underLoad(): boolean {
    return this.handshakes.underLoad(this.clock());
  }

  /**
   * Processes queued initiations and responses, oldest first, appending responses, cookie replies
   * and flushed staged packets to `out` (endpoints in `to`): at most `maxMessages` of them, and no
   * more once `maxMs` have passed since the call began (at least one is processed). It also stops
   * while `out` is more than half full, as a completed handshake may flush a peer's staged
   * packets. Returns how many are still queued: the caller comes back for them on its next turn.
   */
  processHandshakes(
    out: PacketBatch,
    to: Endpoint[],
    maxMessages = Number.POSITIVE_INFINITY,
    maxMs = Number.POSITIVE_INFINITY,
  ): number {
    const started = this.clock();
    this.context.begin(started, out, to);
    try {
      for (let done = 0; done < maxMessages && this.handshakes.queued > 0; done++) {
        if (done > 0) {
          const now = this.clock();
          if (now - started >= maxMs || out.length > out.capacity / 2) break;
          this.context.now = now;
        }
        this.handshakes.processNext();
      }
    } finally {
      this.context.outbox.seal(this.aead);
    }
    return this.handshakes.queued;
  }

  /** The Engine's clock now (monotonic milliseconds): the time its timers and keypairs are measured in. */
  clockNow(): number {
    return this.clock();
  }

  /** Runs the timers (timers.ts): retransmissions, keepalives, rekeys, key expiry. Call every ~100 ms. */
  tick(out: PacketBatch, to: Endpoint[]): void {
    this.context.begin(this.clock(), out, to);
    try {
      this.timerRules.run();
    } finally {
      this.context.outbox.seal(this.aead);
    }
  }

  // ---- transport data ----

  /** Checks a transport message's header and queues its opening (one AEAD call per batch). */
  private queueTransport(buffer: Uint8Array, offset: number, length: number, source: Endpoint): void {
    const entry = this.sessions.lookup(readUint32LE(buffer, offset + 4));
    const keypair = entry?.keypair;
    if (entry === undefined || keypair === undefined) {
      this.context.drop('unknown-index');
      return;
    }
    if (this.context.now - keypair.createdAt >= this.timers.rejectAfterTime) {
      this.context.drop('expired-keypair');
      return;
    }
    const counter = readUint32LE(buffer, offset + 8) + readUint32LE(buffer, offset + 12) * 2 ** 32;
    // REJECT_AFTER_MESSAGES holds on receive too (wireguard-go's replay filter takes it as limit).
    if (counter >= this.timers.rejectAfterMessages) {
      this.context.drop('counter-limit');
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

  /** Opens every queued transport message of `datagrams` at once, then handles each in order. */
  private openQueued(datagrams: PacketBatch, tunOut: PacketBatch): void {
    const jobs = this.openJobs;
    if (jobs.count === 0) return;
    this.aead.open(datagrams.buffer, jobs);
    for (let job = 0; job < jobs.count; job++) {
      if (jobs.ok[job] === 1) this.receiveOpened(job, datagrams, tunOut);
      else this.context.drop('decrypt-failed');
    }
    jobs.clear();
  }

  /**
   * Open job `job` authenticated: replay check, roaming, timers, then its inner packet (at
   * jobs.offsets[job] in `datagrams`, jobs.lengths[job] long) goes to `tunOut`.
   */
  private receiveOpened(job: number, datagrams: PacketBatch, tunOut: PacketBatch): void {
    const buffer = datagrams.buffer;
    const peer = this.openPeers[job] as Peer;
    const keypair = this.openKeypairs[job] as Keypair;
    if (!(keypair.twin ?? keypair.replay).accept(this.openCounters[job] as number)) {
      this.context.drop('replayed');
      return;
    }
    const now = this.context.now;
    const source = this.openSources[job] as Endpoint;
    if (peer.endpoint !== source) {
      peer.endpoint = source; // roaming: the latest authenticated source wins
      this.context.peerChanged(peer);
    }
    if (keypair === peer.next) this.handshakes.confirmNext(peer);
    peer.lastReceivedAt = now;
    peer.unansweredDataSince = -1;
    peer.rxBytes += this.openSizes[job] as number;
    const plainOffset = this.openJobs.offsets[job] as number;
    const plainLength = this.openJobs.lengths[job] as number;
    if (plainLength === 0) return; // keepalive
    const length = ipTotalLengthAt(buffer, plainOffset, plainLength);
    if (length < 0) {
      this.context.drop('bad-inner-packet');
      return;
    }
    // The Tun refuses a packet over its MTU (TunPacketError): a peer must not be able to make the
    // Device's write fail, so such a packet is dropped here, counted.
    if (length > this.mtu) {
      this.context.drop('inner-packet-too-big');
      return;
    }
    if (this.allowedIps.lookupAt(buffer, plainOffset, length, 'source') !== peer) {
      this.context.drop('disallowed-source');
      return;
    }
    if (!this.allowPeerToPeer && this.allowedIps.lookupAt(buffer, plainOffset, length, 'destination') !== undefined) {
      this.context.drop('peer-to-peer');
      return;
    }
    if (!this.deliver(datagrams, plainOffset, length, tunOut)) {
      this.context.drop('tun-batch-full');
      return;
    }
    peer.lastDataReceivedAt = now;
    peer.owesKeepalive = true;
    this.handshakes.keepFreshAfterReceiving(peer);
  }

  /**
   * Hands the inner packet at `offset` of `datagrams` to `tunOut`: in place, by pointing the next
   * slot of `datagrams`' table at it (slots are rewritten only behind the datagram being read), or
   * by copying it into `tunOut`. False when `tunOut` is full.
   */
  private deliver(datagrams: PacketBatch, offset: number, length: number, tunOut: PacketBatch): boolean {
    if (tunOut === datagrams) {
      const slot = this.deliveredInPlace++;
      datagrams.offsets[slot] = offset;
      datagrams.lengths[slot] = length;
      return true;
    }
    const at = tunOut.reserveAt(length);
    if (at < 0) return false;
    // One view, as TypedArray#set needs a source array (Buffer#copy makes the same view inside,
    // on Node 20): a copy across buffers without one would be a JS loop, several times slower.
    // The Device opens in place and copies nothing.
    tunOut.buffer.set(datagrams.buffer.subarray(offset, offset + length), at);
    return true;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
