// What the parts of the Engine share: the settings, the peers, the counters and drops, and the
// injected wall clock and random source. One object, handed to each part (sessions.ts,
// engine-handshake.ts, timers.ts) by the Engine that owns it.

import type { TimerSettings } from './constants.js';
import { type DropCounters, type DropReason, emptyDropCounters } from './drops.js';
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

  constructor(
    readonly timers: TimerSettings,
    /** Tunnel MTU: plaintext is padded to 16 bytes but never beyond it. */
    public mtu: number,
    /** Wall-clock milliseconds (handshake timestamps, `wg show`). */
    readonly wallClock: () => number,
    readonly random: (n: number) => Uint8Array,
  ) {}

  drop(reason: DropReason): void {
    this.drops[reason]++;
  }
}
