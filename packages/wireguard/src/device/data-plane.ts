// DataPlaneSync: the Device's side of the native data plane (native/dataplane/data_plane.hh). Where
// the Tun and the Bind both offer a native packet port (Linux's TUN and native UDP socket), the
// data plane seals on the TUN's queue threads and opens on the UDP receive thread, and the JS
// thread keeps what is not per packet: handshakes, timers, routing decisions, the control plane.
// This file keeps the two sides in step:
//   JS → native, at once, whenever the Engine changes a peer (onPeerChange: keypairs rotated or
//   cleared, an endpoint learnt) and after the Device changes peers or allowed IPs (syncAll): the
//   peer's endpoint, its keypairs (from then on their send counters and replay windows live in
//   the data plane: the Engine takes counters and checks replays through each keypair's twin, so
//   nothing is used or accepted twice whichever side handles a packet), and the routes;
//   native → JS, before each timer run (pull): per peer the marks the timers read (last sent,
//   last received, bytes, the first unanswered send), the endpoint it roamed to, and the drops.

import type { Tun } from '@tunkit/tun-core';
import type { Bind } from '../bind/bind.js';
import { type NativeDataPlane, type NativeKeypairSpec, native, nativeLoadFailure } from '../native.js';
import type { DropReason } from '../protocol/drops.js';
import type { Engine } from '../protocol/engine.js';
import type { Keypair, KeypairTwin, Peer } from '../protocol/peer.js';
import { REPLAY_WORDS } from '../protocol/replay.js';
import { decodeTrace, TRACE_FIELDS, type TraceEvent } from './trace.js';

/** The data plane's drop counters, in native order (session_table.hh's DataPlaneDrop). */
const NATIVE_DROPS: readonly DropReason[] = [
  'malformed',
  'unknown-index',
  'decrypt-failed',
  'replayed',
  'expired-keypair',
  'bad-inner-packet',
  'inner-packet-too-big',
  'counter-limit',
  'disallowed-source',
  'peer-to-peer',
  'standing-queue',
];

/** Numbers per peer slot in activity() (SessionTable::kActivityFields). */
const FIELDS = 12;
const NO_REPLAY_STATE = new Uint32Array(REPLAY_WORDS);

/** A keypair's counter and window in the data plane, for the Engine's own packets on it. */
class NativeTwin implements KeypairTwin {
  constructor(
    readonly plane: NativeDataPlane,
    readonly localIndex: number,
  ) {}

  takeCounter(): number {
    const counter = this.plane.takeCounter(this.localIndex);
    // Unknown to the data plane (gone with its peer): no counter is safe, so none is given.
    return counter < 0 ? Number.MAX_SAFE_INTEGER : counter;
  }

  accept(counter: number): boolean {
    return this.plane.acceptCounter(this.localIndex, counter);
  }
}

/** What the last pull saw of a slot, to turn the data plane's running totals into changes. */
interface Seen {
  txBytes: number;
  rxBytes: number;
  dataSent: number;
  dataReceived: number;
  endpointChanges: number;
  lastDataReceived: number;
  lastSent: number;
  /** peer.unansweredDataSince as the last pull left it. */
  unanswered: number;
}

/** Why the native data plane cannot run with this Tun and Bind, or undefined when it can. */
export function dataPlaneUnavailable(tun: Tun, bind: Bind): string | undefined {
  if (typeof tun.nativePort !== 'function')
    return 'the Tun has no native packet port (only Linux TUN devices have one)';
  if (typeof bind.nativePort !== 'function')
    return 'the Bind has no native packet port (the native Linux UDP bind has one)';
  const failure = nativeLoadFailure();
  if (failure !== undefined) return failure;
  if (native().DataPlane === undefined) return `the addon has no data plane on ${process.platform}`;
  return undefined;
}

export class DataPlaneSync {
  private readonly plane: NativeDataPlane;
  private readonly slots = new Map<Peer, number>();
  private readonly free: number[] = [];
  private readonly seen: Seen[] = [];
  private activityRows = new Float64Array(16 * FIELDS);
  private readonly dropTotals = new Float64Array(NATIVE_DROPS.length);
  private readonly dropsSeen = new Float64Array(NATIVE_DROPS.length);
  private readonly endpointBytes = new Uint8Array(24);
  private routesVersion = -1;
  private settings = '';
  private closed = false;
  /** Transport packets the data plane sealed and opened (with a payload), over all peers, as of the last pull. */
  readonly totals = { sealed: 0, opened: 0 };

  /** Starts the data plane on the Tun's and the Bind's ports (see dataPlaneUnavailable first). */
  constructor(
    private readonly engine: Engine,
    tun: Tun,
    private readonly bind: Bind,
    private readonly allowPeerToPeer: () => boolean,
  ) {
    const DataPlane = native().DataPlane as NonNullable<ReturnType<typeof native>['DataPlane']>;
    const tunPort = (tun.nativePort as () => unknown).call(tun);
    const udpPort = (bind.nativePort as () => unknown).call(bind);
    this.plane = new DataPlane(tunPort, udpPort);
    this.syncAll();
    engine.onPeerChange = (peer) => {
      if (this.slots.has(peer)) this.syncPeer(peer);
    };
    this.plane.attach();
  }

  /** The settings, every peer, and the routes when they changed. Call after changing peers or allowed IPs. */
  syncAll(): void {
    if (this.closed) return;
    const { engine } = this;
    this.syncSettings();
    const present = new Set(engine.peers());
    for (const [peer, slot] of this.slots) {
      if (present.has(peer)) continue;
      this.plane.removePeer(slot);
      this.slots.delete(peer);
      this.free.push(slot);
    }
    for (const peer of present) this.syncPeer(peer);
    if (engine.allowedIps.version !== this.routesVersion) this.syncRoutes();
  }

  /** The MTU and the peer-to-peer rule, when they changed (the data plane pauses briefly for each change). */
  private syncSettings(): void {
    const { engine } = this;
    const settings = `${engine.mtu} ${this.allowPeerToPeer()} ${engine.timers.rejectAfterMessages}`;
    if (settings === this.settings) return;
    this.plane.setSettings(engine.mtu, this.allowPeerToPeer(), engine.timers.rejectAfterMessages);
    this.settings = settings;
  }

  private slotOf(peer: Peer): number {
    let slot = this.slots.get(peer);
    if (slot === undefined) {
      slot = this.free.pop() ?? this.slots.size;
      this.slots.set(peer, slot);
      this.seen[slot] = {
        txBytes: 0,
        rxBytes: 0,
        dataSent: 0,
        dataReceived: 0,
        endpointChanges: 0,
        lastDataReceived: Number.NEGATIVE_INFINITY,
        lastSent: Number.NEGATIVE_INFINITY,
        unanswered: -1,
      };
    }
    return slot;
  }

  /** The peer's endpoint and keypairs, as they are now. */
  private syncPeer(peer: Peer): void {
    if (this.closed) return;
    const slot = this.slotOf(peer);
    this.plane.setPeer(slot, this.addressOf(peer));
    const now = this.engine.clockNow();
    const specs: NativeKeypairSpec[] = [];
    const add = (keypair: Keypair | undefined, role: 0 | 1 | 2) => {
      if (keypair === undefined) return;
      const twin = keypair.twin;
      const fresh = !(twin instanceof NativeTwin && twin.plane === this.plane);
      let counter = keypair.sendCounter;
      let replay = fresh ? keypair.replay.state() : { bitmap: NO_REPLAY_STATE, last: -1 };
      if (fresh && twin instanceof NativeTwin) {
        // A twin in an earlier data plane (the Bind moved to another port): its counter and window
        // carry over, so nothing is reused or accepted twice across the move.
        const bitmap = new Uint32Array(REPLAY_WORDS);
        const exported = twin.plane.exportKeypair(twin.localIndex, bitmap);
        if (exported === null) return; // gone there: the Engine no longer has a safe counter for it
        counter = Math.max(counter, exported[0]);
        replay = { bitmap, last: exported[1] };
      }
      specs.push({
        localIndex: keypair.keys.localIndex,
        remoteIndex: keypair.keys.remoteIndex,
        sendKey: keypair.keys.sendKey,
        receiveKey: keypair.keys.receiveKey,
        remainingMs: keypair.createdAt + this.engine.timers.rejectAfterTime - now,
        role,
        counter,
        replayBitmap: replay.bitmap,
        replayLast: replay.last,
      });
      // From here on the Engine takes this keypair's counters and checks its replays through the data plane.
      if (fresh) keypair.twin = new NativeTwin(this.plane, keypair.keys.localIndex);
    };
    add(peer.previous, 0);
    add(peer.current, 1);
    add(peer.next, 2);
    this.plane.setKeypairs(slot, specs);
  }

  /** The peer's endpoint in the native form, or null: none, or one the socket cannot reach (JS then counts its packets). */
  private addressOf(peer: Peer): Uint8Array | null {
    const { endpoint } = peer;
    if (endpoint === undefined || this.bind.addressOfEndpoint === undefined) return null;
    try {
      const address = this.bind.addressOfEndpoint(endpoint);
      return address[0] === 0 ? null : address; // family 0: the Bind cannot send there (it counts it)
    } catch {
      return null; // an endpoint the socket cannot reach: JS counts its packets as it would
    }
  }

  private syncRoutes(): void {
    const entries: number[][] = [];
    this.engine.allowedIps.forEach(({ family, address, prefix }, peer) => {
      const slot = this.slots.get(peer);
      if (slot === undefined) return;
      const entry = new Array<number>(24).fill(0);
      entry[0] = family;
      entry[1] = prefix;
      entry[4] = slot & 0xff;
      entry[5] = (slot >>> 8) & 0xff;
      entry[6] = (slot >>> 16) & 0xff;
      entry[7] = slot >>> 24;
      for (let i = 0; i < address.length; i++) entry[8 + i] = address[i] as number;
      entries.push(entry);
    });
    this.plane.setRoutes(Uint8Array.from(entries.flat()));
    this.routesVersion = this.engine.allowedIps.version;
  }

  /**
   * Folds what the data plane did since the last pull into the peers and the Engine's drops.
   * Call before each timer run (and before reading peers' counters), on the JS thread.
   */
  pull(): void {
    if (this.closed) return;
    this.syncSettings();
    if (this.engine.allowedIps.version !== this.routesVersion) this.syncRoutes();
    if (this.activityRows.length < this.slots.size * FIELDS)
      this.activityRows = new Float64Array(this.slots.size * 2 * FIELDS);
    const rows = this.activityRows;
    const written = this.plane.activity(rows);
    const now = this.engine.clockNow();
    const at = (ago: number) => (ago < 0 ? Number.NEGATIVE_INFINITY : now - ago);
    for (const [peer, slot] of this.slots) {
      if (slot >= written) continue;
      const r = slot * FIELDS;
      const seen = this.seen[slot] as Seen;
      // The timers acted on the first unanswered send since the last pull (or the Engine received):
      // the data plane's wait starts again with its next send, as the Engine's does.
      if (seen.unanswered >= 0 && peer.unansweredDataSince < 0) {
        this.plane.resetUnanswered(slot);
        rows[r + 4] = -1;
      }
      const lastSent = at(rows[r + 1] as number);
      const lastReceived = at(rows[r + 2] as number);
      const lastDataReceived = at(rows[r + 3] as number);
      const unanswered = (rows[r + 4] as number) < 0 ? -1 : now - (rows[r + 4] as number);
      const txBytes = rows[r + 5] as number;
      const rxBytes = rows[r + 6] as number;
      const dataSent = rows[r + 7] as number;
      const dataReceived = rows[r + 8] as number;
      const endpointChanges = rows[r + 9] as number;
      const counter = rows[r + 10] as number;
      peer.txBytes += txBytes - seen.txBytes;
      peer.rxBytes += rxBytes - seen.rxBytes;
      const sent = dataSent > seen.dataSent;
      this.totals.sealed += dataSent - seen.dataSent;
      this.totals.opened += dataReceived - seen.dataReceived;
      mergeMarks(peer, { lastSent, lastReceived, lastDataReceived, unanswered, seen });
      seen.unanswered = peer.unansweredDataSince;
      if (sent) peer.dataSentElsewhere = true;
      if (dataReceived > seen.dataReceived) peer.dataReceivedElsewhere = true;
      if (counter >= 0 && peer.current?.twin !== undefined && counter > peer.current.sendCounter) {
        peer.current.sendCounter = counter;
      }
      if (endpointChanges !== seen.endpointChanges && this.bind.endpointFromAddress) {
        if (this.plane.endpointOf(slot, this.endpointBytes)) {
          peer.endpoint = this.bind.endpointFromAddress(this.endpointBytes);
        }
      }
      seen.txBytes = txBytes;
      seen.rxBytes = rxBytes;
      seen.dataSent = dataSent;
      seen.dataReceived = dataReceived;
      seen.endpointChanges = endpointChanges;
    }
    this.plane.drops(this.dropTotals);
    const drops = this.engine.drops;
    NATIVE_DROPS.forEach((reason, i) => {
      const total = this.dropTotals[i] as number;
      drops[reason] += total - (this.dropsSeen[i] as number);
      this.dropsSeen[i] = total;
    });
  }

  /** Records each batch's times (trace.ts) from now on, or stops. */
  trace(on: boolean): void {
    if (!this.closed) this.plane.trace(on);
  }

  /** What the data plane traced (its last 16,384 batches), oldest first. */
  traceEvents(): TraceEvent[] {
    const rows = new Float64Array(16384 * TRACE_FIELDS);
    return decodeTrace(rows, this.plane.traceEvents(rows));
  }

  /**
   * Detaches from the ports (no data plane thread is inside once it returns), then folds in what
   * it did last. The keypairs keep their twins here: the Engine goes on taking counters and
   * checking replays through this (now idle) table, and a later data plane takes them over
   * (exportKeypair). Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.plane.close();
    this.pull();
    this.closed = true;
    this.engine.onPeerChange = undefined;
  }
}

/**
 * Folds a slot's marks into the peer, so the timers see the traffic of both sides:
 * - last sent / received / data received: the later of the two;
 * - the first unanswered data send: the data plane's, unless the Engine received since (then the
 *   sends after that receive count, from it at the earliest), or the Engine's own, unless the data
 *   plane received since;
 * - a keepalive is owed after data came in, until anything goes out: whichever of the data
 *   plane's last data in and last send is newer decides, when either is new.
 */
function mergeMarks(
  peer: Peer,
  native: {
    lastSent: number;
    lastReceived: number;
    lastDataReceived: number;
    unanswered: number;
    seen: Seen;
  },
): void {
  const receivedByEngine = peer.lastReceivedAt;
  let unanswered = -1;
  if (peer.unansweredDataSince >= 0 && peer.unansweredDataSince >= native.lastReceived)
    unanswered = peer.unansweredDataSince;
  if (native.unanswered >= 0) {
    let since = -1;
    if (native.unanswered >= receivedByEngine) since = native.unanswered;
    else if (native.lastSent > receivedByEngine) since = receivedByEngine;
    if (since >= 0) unanswered = unanswered < 0 ? since : Math.min(unanswered, since);
  }
  peer.unansweredDataSince = unanswered;
  const newData = native.lastDataReceived > native.seen.lastDataReceived;
  const newSend = native.lastSent > native.seen.lastSent;
  if (newData || newSend) peer.owesKeepalive = native.lastDataReceived > native.lastSent;
  native.seen.lastDataReceived = native.lastDataReceived;
  native.seen.lastSent = native.lastSent;
  peer.lastSentAt = Math.max(peer.lastSentAt, native.lastSent);
  peer.lastReceivedAt = Math.max(peer.lastReceivedAt, native.lastReceived);
  peer.lastDataReceivedAt = Math.max(peer.lastDataReceivedAt, native.lastDataReceived);
}
