// The protocol timers (whitepaper 6.2), run by Engine.tick about every 100 ms: handshake
// retransmission and giving up, keepalives owed for received data, a new handshake when sent data
// goes unanswered, persistent keepalives, and forgetting keys long past use. Their settings
// (TimerSettings, DEFAULT_TIMERS) sit beside the constants they come from, in constants.ts.

import type { EngineContext } from './engine-context.js';
import type { Handshakes } from './engine-handshake.js';
import type { Peer } from './peer.js';
import type { Sessions } from './sessions.js';

export class Timers {
  constructor(
    private readonly context: EngineContext,
    private readonly sessions: Sessions,
    private readonly handshakes: Handshakes,
  ) {}

  /** Runs the timer rules for every peer, at the call's time, into its Outbox. */
  run(): void {
    for (const peer of this.context.peersByKey.values()) this.runForPeer(peer);
  }

  private runForPeer(peer: Peer): void {
    const { context, sessions, handshakes } = this;
    const { timers: t, now } = context;
    if (peer.handshake !== undefined && now - peer.lastInitiationSentAt >= t.rekeyTimeout + peer.retransmitJitter) {
      if (now - peer.handshakeStartedAt >= t.rekeyAttemptTime) {
        context.drops['handshake-timeout'] += peer.staged.length;
        peer.staged.length = 0;
        sessions.forgetHandshake(peer);
        peer.handshakeStartedAt = -1;
      } else {
        handshakes.initiate(peer, true);
      }
    }
    // What the Engine checks per packet, for packets a native data plane carried since the last run.
    if (peer.dataSentElsewhere) {
      peer.dataSentElsewhere = false;
      if (peer.current !== undefined) handshakes.keepFreshAfterSending(peer, peer.current);
    }
    if (peer.dataReceivedElsewhere) {
      peer.dataReceivedElsewhere = false;
      handshakes.keepFreshAfterReceiving(peer);
    }
    const keypair = sessions.sendKeypair(peer);
    if (peer.owesKeepalive && now - peer.lastDataReceivedAt >= t.keepaliveTimeout && keypair !== undefined) {
      sessions.sendKeepalive(peer, keypair);
    }
    // Data went out and nothing authenticated came back for unansweredDataTimeout since the first
    // such packet (not the last: steady traffic to a restarted peer must not defer it).
    if (peer.unansweredDataSince >= 0 && now - peer.unansweredDataSince >= t.unansweredDataTimeout) {
      peer.unansweredDataSince = -1; // once per silence
      handshakes.initiate(peer, false);
    }
    if (peer.persistentKeepalive > 0 && now - peer.lastSentAt >= peer.persistentKeepalive * 1000) {
      if (keypair !== undefined) sessions.sendKeepalive(peer, keypair);
      else handshakes.initiate(peer, false);
    }
    if (peer.current !== undefined && now - peer.current.createdAt >= 3 * t.rejectAfterTime) sessions.clear(peer);
  }
}
