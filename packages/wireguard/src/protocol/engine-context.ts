// What the parts of the Engine share: the settings, the peers, the counters and drops, the
// injected wall clock and random source, and the current call's time and Outbox. One object,
// handed to each part (sessions.ts, engine-handshake.ts, timers.ts) by the Engine that owns it.
// Each entry point of the Engine (sealBatch, receiveBatch, tick) starts with `begin`, so no
// method below it takes the time or the output as parameters.

import type { PacketBatch } from '@tunkit/tun-core';
import type { Endpoint } from '../bind/bind.js';
import type { TimerSettings } from './constants.js';
import { type DropCounters, type DropReason, emptyDropCounters } from './drops.js';
import { Outbox } from './outbox.js';
import type { Peer } from './peer.js';

export interface EngineCounters {
  handshakesInitiated: number;
  handshakesCompleted: number;
  handshakesAnswered: number;
  keepalivesSent: number;
  cookiesSent: number;
}

export class EngineContext {
  readonly drops: DropCounters = emptyDropCounters();
  readonly counters: EngineCounters = {
    handshakesInitiated: 0,
    handshakesCompleted: 0,
    handshakesAnswered: 0,
    keepalivesSent: 0,
    cookiesSent: 0,
  };
  /** Peers by the hex of their public key. */
  readonly peersByKey = new Map<string, Peer>();
  /** The current call's monotonic time in milliseconds (one reading per call, as the protocol's timers want). */
  now = 0;
  /** Where the current call's datagrams go. */
  readonly outbox = new Outbox();
  /**
   * Told, synchronously, whenever a peer's keypairs or endpoint change (a native data plane
   * follows them: device/data-plane.ts). Undefined when nobody listens.
   */
  onPeerChange: ((peer: Peer) => void) | undefined;

  constructor(
    readonly timers: TimerSettings,
    /** Tunnel MTU: plaintext is padded to 16 bytes but never beyond it. */
    public mtu: number,
    /** Wall-clock milliseconds (handshake timestamps, `wg show`). */
    readonly wallClock: () => number,
    readonly random: (n: number) => Uint8Array,
    /** Fills `into` from the same source, allocating nothing (cookie reply nonces under a flood). */
    readonly fillRandom: (into: Uint8Array) => void = (into) => into.set(random(into.length)),
  ) {}

  /** Starts an entry point's call at `now`, appending datagrams to `out` (endpoints in `to`). */
  begin(now: number, out: PacketBatch, to: Endpoint[]): void {
    this.now = now;
    this.outbox.use(out, to);
  }

  peerChanged(peer: Peer): void {
    this.onPeerChange?.(peer);
  }

  drop(reason: DropReason): void {
    this.drops[reason]++;
  }
}
