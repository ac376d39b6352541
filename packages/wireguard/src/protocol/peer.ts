// A peer's protocol state: its keys and endpoint, the three keypairs (previous, current, next),
// the handshake in flight, the timer marks, counters, and a bounded queue of packets staged while
// no session exists. Pure state: the Engine changes it; nothing here does I/O.

import type { Endpoint } from '../bind/bind.js';
import { MacSender } from './cookie.js';
import type { InitiatorState, SessionKeys } from './handshake.js';
import { ReplayWindow } from './replay.js';

/** At most this many packets wait for a handshake per peer (wireguard-go's staged queue size). */
export const STAGED_LIMIT = 128;

/**
 * Where a keypair's send counter and replay window live once a native data plane shares them with
 * its threads (device/data-plane.ts): the Engine then takes counters and checks replays through
 * it, so no counter is used twice and no counter is accepted twice, whichever side handles a packet.
 */
export interface KeypairTwin {
  /** Takes the next send counter (never handed out again). */
  takeCounter(): number;
  /** The replay window's answer for an authenticated counter (recorded when accepted). */
  accept(counter: number): boolean;
}

export interface Keypair {
  keys: SessionKeys;
  /**
   * The next send counter. With a twin, the twin's counter is the one taken (takeSendCounter);
   * this then follows it for the REKEY/REJECT_AFTER_MESSAGES checks (at least as far as the twin).
   */
  sendCounter: number;
  replay: ReplayWindow;
  createdAt: number;
  twin?: KeypairTwin;
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
  /**
   * Data went out / came in on this peer's keypairs outside the Engine (a native data plane) since
   * the last timer run: the timers then apply the rekey rules the Engine applies per packet.
   */
  dataSentElsewhere = false;
  dataReceivedElsewhere = false;
  readonly staged: Uint8Array[] = [];

  constructor(config: PeerConfig) {
    this.publicKey = config.publicKey;
    this.presharedKey = config.presharedKey;
    this.endpoint = config.endpoint;
    this.persistentKeepalive = config.persistentKeepalive ?? 0;
    this.macSender = new MacSender(config.publicKey);
  }
}
