// A peer's protocol state: its keys and endpoint, the three keypairs (previous, current, next),
// the handshake in flight, the timer marks, counters, and a bounded queue of packets staged while
// no session exists. Pure state: the Engine changes it; nothing here does I/O.

import type { Endpoint } from '../bind/bind.js';
import { MacSender } from './cookie.js';
import type { InitiatorState, SessionKeys } from './handshake.js';
import { ReplayWindow } from './replay.js';

/** At most this many packets wait for a handshake per peer (wireguard-go's staged queue size). */
export const STAGED_LIMIT = 128;

export interface Keypair {
  keys: SessionKeys;
  sendCounter: number;
  replay: ReplayWindow;
  createdAt: number;
}

export function newKeypair(keys: SessionKeys, now: number): Keypair {
  return { keys, sendCounter: 0, replay: new ReplayWindow(), createdAt: now };
}

export interface PeerConfig {
  publicKey: Uint8Array;
  presharedKey?: Uint8Array | undefined;
  endpoint?: Endpoint | undefined;
  /** Seconds between keepalives sent regardless of traffic; 0 = off. */
  persistentKeepalive?: number;
}

export class Peer {
  readonly publicKey: Uint8Array;
  presharedKey: Uint8Array | undefined;
  endpoint: Endpoint | undefined;
  persistentKeepalive: number;
  readonly macSender: MacSender;

  previous: Keypair | undefined;
  current: Keypair | undefined;
  /** A responder's new keypair, usable for sending only once the initiator has used it. */
  next: Keypair | undefined;

  handshake: InitiatorState | undefined;
  handshakeStartedAt = -1;
  lastInitiationSentAt = -Infinity;
  retransmitJitter = 0;
  lastInitiationTimestamp: Uint8Array | undefined;
  /** Wall-clock ms of the last completed handshake (for `wg show`); 0 = never. */
  lastHandshakeWallMs = 0;

  lastSentAt = -Infinity;
  lastReceivedAt = -Infinity;
  /** When the first data packet went out with nothing authenticated received since; -1: none. */
  unansweredDataSince = -1;
  lastDataReceivedAt = -Infinity;
  /** A data packet came in that we have not yet answered (with data or a keepalive). */
  owesKeepalive = false;

  rxBytes = 0;
  txBytes = 0;
  readonly staged: Uint8Array[] = [];

  constructor(config: PeerConfig) {
    this.publicKey = config.publicKey;
    this.presharedKey = config.presharedKey;
    this.endpoint = config.endpoint;
    this.persistentKeepalive = config.persistentKeepalive ?? 0;
    this.macSender = new MacSender(config.publicKey);
  }
}
