// The daemon's watcher: what the operator needs to hear about handshakes, at a bounded rate, by
// peer label (the peer's first AllowedIPs prefix), never by key:
//   - each completed handshake;
//   - each handshake attempt left unanswered (REKEY_TIMEOUT passed and the Engine sent the next
//     initiation, or gave up after REKEY_ATTEMPT_TIME): the first at once, then at most once a
//     minute per peer; a peer whose attempts keep failing is also handed to `onFailing` (the
//     daemon re-resolves its endpoint's host name there);
//   - once a minute, the peers that never completed a handshake;
//   - once, that the kernel refused a coalesced TUN write.
// A tick reads a few fields of every peer (about 0.1 ms for 5,000 peers) and writes at most
// MAX_LINES_PER_TICK lines per kind; the rest of a tick's events become one summary line, so a
// gateway whose 5,000 peers all handshake at once logs a few dozen lines, not 5,000. State kept per
// peer is dropped in the tick after the peer is removed. Runs on the JS thread, every 250 ms.

import type { Tun } from '@tunkit/tun-core';
import type { Device, Peer } from '@tunkit/wireguard';
import type { Logger } from './logger.js';

const TICK_MS = 250;
/** How often the watcher asks the Tun whether the kernel refused a coalesced write (a netlink call on Linux). */
const COALESCING_CHECK_TICKS = 4; // × 250 ms
/** Lines of one kind (completed, unanswered) a tick writes before it sums the rest up in one. */
const MAX_LINES_PER_TICK = 8;
/** After a peer's first unanswered attempt is logged, the next line for it waits this long. */
const FAILURE_LOG_INTERVAL_MS = 60_000;
/** Unanswered attempts in a row after which a peer is handed to onFailing (each one after too). */
const FAILING_AFTER_ATTEMPTS = 2;

export interface WatcherOptions {
  /** Monotonic milliseconds (default performance.now). */
  now?: () => number;
  /** Milliseconds between the lines about peers that never completed a handshake (default 60 s). */
  neverHandshakeIntervalMs?: number;
  /** A peer's handshake attempts keep failing (two or more unanswered in a row). */
  onFailing?: (peer: Peer) => void;
}

/** What the watcher remembers of one peer, between ticks. */
interface PeerState {
  lastHandshakeWallMs: number;
  lastInitiationSentAt: number;
  attempting: boolean;
  /** Unanswered attempts since the last completed handshake. */
  unanswered: number;
  /** Unanswered attempts not logged yet, and when the last line for this peer went out. */
  unlogged: number;
  loggedAt: number;
  /** The tick that last saw the peer: state older than the current tick belongs to a removed peer. */
  seenAt: number;
}

/** Logs handshakes and their failures (by peer label, never by key); see the file header. */
export function watchHandshakes(
  device: Pick<Device, 'engine'>,
  tun: Pick<Tun, 'stats'>,
  log: Pick<Logger, 'info' | 'warn'>,
  options: WatcherOptions = {},
): NodeJS.Timeout {
  const now = options.now ?? (() => performance.now());
  const neverInterval = options.neverHandshakeIntervalMs ?? 60_000;
  const states = new Map<Peer, PeerState>();
  const label = (peer: Peer) => device.engine.allowedIps.prefixesOf(peer)[0] ?? 'a peer without allowed IPs';
  const endpoint = (peer: Peer) => (peer.endpoint ? `${peer.endpoint.address}:${peer.endpoint.port}` : undefined);
  // Coalesced writes exist only with TSO; LinuxTun.stats() also reads the kernel's counters over
  // netlink, so it is asked once a second, not at every tick, and never again once it said yes.
  let coalescingReported = (tun as { offload?: { tso?: boolean } }).offload?.tso !== true;
  let ticks = 0;
  let nextNeverReport = now() + neverInterval;

  const tick = () => {
    ticks++;
    const at = now();
    if (
      !coalescingReported &&
      ticks % COALESCING_CHECK_TICKS === 0 &&
      (tun.stats() as { coalescingRefused?: boolean }).coalescingRefused
    ) {
      coalescingReported = true;
      log.warn(
        'the kernel refused a coalesced TUN write: writing one packet per frame from now on (offload reads stay on)',
      );
    }
    let completedLines = 0;
    let completedMore = 0;
    let failedLines = 0;
    let failedMore = 0;
    let never = 0;
    let seen = 0;
    const neverExamples: Peer[] = [];
    for (const peer of device.engine.peers()) {
      seen++;
      let state = states.get(peer);
      if (state === undefined) {
        state = {
          lastHandshakeWallMs: 0,
          lastInitiationSentAt: Number.NEGATIVE_INFINITY,
          attempting: false,
          unanswered: 0,
          unlogged: 0,
          loggedAt: Number.NEGATIVE_INFINITY,
          seenAt: ticks,
        };
        states.set(peer, state);
      }
      state.seenAt = ticks;
      let failedNow = 0;
      if (peer.lastHandshakeWallMs !== state.lastHandshakeWallMs) {
        state.lastHandshakeWallMs = peer.lastHandshakeWallMs;
        state.unanswered = 0;
        state.unlogged = 0;
        state.loggedAt = Number.NEGATIVE_INFINITY;
        if (completedLines < MAX_LINES_PER_TICK) {
          completedLines++;
          log.info({ peer: label(peer), endpoint: endpoint(peer) }, 'handshake completed');
        } else {
          completedMore++;
        }
      } else if (peer.lastInitiationSentAt !== state.lastInitiationSentAt && state.attempting) {
        failedNow++; // the next initiation went out: the one before it was not answered
      } else if (state.attempting && peer.handshakeStartedAt < 0) {
        failedNow++; // the Engine gave up (REKEY_ATTEMPT_TIME)
      }
      state.lastInitiationSentAt = peer.lastInitiationSentAt;
      state.attempting = peer.handshakeStartedAt >= 0;
      if (failedNow > 0) {
        state.unanswered += failedNow;
        state.unlogged += failedNow;
        if (state.unanswered >= FAILING_AFTER_ATTEMPTS) options.onFailing?.(peer);
      }
      if (state.unlogged > 0 && at - state.loggedAt >= FAILURE_LOG_INTERVAL_MS) {
        if (failedLines < MAX_LINES_PER_TICK) {
          failedLines++;
          log.warn(
            {
              peer: label(peer),
              endpoint: endpoint(peer),
              unanswered: state.unanswered,
              givenUp: !state.attempting,
            },
            `handshake not answered (${state.unlogged} attempt${state.unlogged === 1 ? '' : 's'} since the last line): check the peer's endpoint, public key and preshared key, and the firewall`,
          );
          state.unlogged = 0;
          state.loggedAt = at;
        } else {
          failedMore++;
        }
      }
      if (peer.lastHandshakeWallMs === 0) {
        never++;
        if (neverExamples.length < 5) neverExamples.push(peer);
      }
    }
    if (completedMore > 0) log.info({ peers: completedMore }, `handshake completed with ${completedMore} more peers`);
    if (failedMore > 0) {
      log.warn({ peers: failedMore }, `handshake not answered by ${failedMore} more peers (not logged one by one)`);
    }
    // Peers removed since the last tick (wg set … remove, a reload) are forgotten.
    if (states.size > seen) {
      for (const [peer, state] of states) if (state.seenAt !== ticks) states.delete(peer);
    }
    if (at >= nextNeverReport) {
      nextNeverReport = at + neverInterval;
      if (never > 0) {
        log.warn(
          { peers: never, examples: neverExamples.map(label) },
          `${never} configured peer${never === 1 ? ' has' : 's have'} never completed a handshake`,
        );
      }
    }
  };
  const timer = setInterval(tick, TICK_MS);
  timer.unref();
  return timer;
}
