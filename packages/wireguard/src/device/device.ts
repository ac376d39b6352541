// Device: joins a Tun, a Bind and the WireGuard Engine, and moves batches between them.
//   TUN batch → route and seal (Engine.sealBatch) → UDP batch;
//   UDP batch → open and check (Engine.receiveBatch) → TUN batch, written with backpressure: while
//   the Tun cannot take more, UDP is not read (so no queue grows without bound). Initiations and
//   responses wait in the Engine's bounded handshake queue;
//   handshake turns → Engine.processHandshakes, a budget at a time → UDP batch.
// A ticker drives the protocol timers. The UAPI socket (wg show / wg set) plugs into uapiGet/uapiSet.
// Every loop gives way to the event loop after a bounded amount of work (turn-budget.ts), so
// timers, keepalives, UAPI, /metrics and signals are served during any flood.
// No loop ever ends on an error but close: an unexpected error is counted (`loopErrors`), reported
// through `log`, and the loop carries on with the next batch.
// The Tun ending under it (tun-core's "Ends by itself": the interface deleted, the adapter
// removed, the utun disconnected; or the Tun closed by someone else) ends the Device, as
// wireguard-go's device closes itself when its TUN read fails: loops and ticker stop and the Bind
// closes, so peers no longer see handshakes and keepalives from a tunnel that forwards nothing;
// `endedBy` says why and `ended` resolves with it. Undoing what the host was given (routes, rules)
// is left to the owner, which awaits `ended`. The Device only sees recvMany resolve 0, never a
// platform's signal.

import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { PacketBatch, type Tun, TunClosedError, TunConfigError, type TunError } from '@tunkit/tun-core';
import type { Bind, BindStats, Endpoint } from '../bind/bind.js';
import {
  EADDRINUSE,
  EIO,
  EPERM,
  formatUapiInterface,
  formatUapiPeer,
  type PeerSnapshot,
  parseUapiSet,
  UapiError,
} from '../config/uapi.js';
import { datagramSizeFor, MAX_TUNNEL_MTU } from '../protocol/constants.js';
import { Engine, type EngineOptions } from '../protocol/engine.js';
import type { Peer, PeerConfig } from '../protocol/peer.js';
import { SEAL_HEADROOM, SEAL_TAILROOM } from '../protocol/seal.js';
import type { UapiHandler } from '../uapi/uapi-server.js';
import { DataPlaneSync, dataPlaneUnavailable } from './data-plane.js';
import { decodeTrace, type TraceEvent, TraceRecorder } from './trace.js';
import { TurnBudget } from './turn-budget.js';

export interface DeviceOptions extends Omit<EngineOptions, 'mtu'> {
  tun: Tun;
  bind: Bind;
  /** Packets per batch (default 100). */
  batchSize?: number;
  /** Milliseconds between timer runs (default 100). */
  tickInterval?: number;
  /**
   * Moves the device to another UDP port, for `wg set ... listen-port`: opens a Bind on `port` and
   * hands it to `adopt`, which switches the loops to it and closes the old one. Whatever must
   * follow the port (the daemon's source-port rule) goes around `adopt`: before it, the new port
   * is not in use yet; after it, the old one is closed. When this throws before adopting, the
   * old Bind stays in use and UAPI answers EADDRINUSE (as wireguard-go).
   */
  rebind?: (port: number, adopt: (bind: Bind) => Promise<void>) => Promise<void>;
  /**
   * The fwmark (wg-quick's FwMark, `wg set … fwmark`): every datagram the Device sends carries it
   * (SO_MARK, Bind.setFwmark), on this Bind and on each it moves to; UAPI get (`wg show`) reports
   * it. Setting it needs CAP_NET_ADMIN: the constructor throws the Bind's TunOsError (EPERM). A
   * Bind that cannot mark (node:dgram) keeps the mark recorded and reported but not applied, and
   * the Device says so through `log` once per value, rather than refusing it, so `wg syncconf`
   * with a config carrying FwMark still works there.
   */
  fwmark?: number;
  /** Where unexpected errors and notices go (default console.warn). */
  log?: (message: string, error?: unknown) => void;
  /**
   * Where transport data is sealed and opened. 'native' (the default): in the native data plane
   * (device/data-plane.ts) where the Tun and the Bind offer native packet ports (Linux TUN, the
   * native UDP bind), else here; 'js': always here, on the JS thread. `dataPlane` says which runs.
   */
  dataPlane?: 'native' | 'js';
  /**
   * Record when each batch of the data path was ready, taken, sealed or opened and handed on
   * (trace.ts), natively and here; read them with traceEvents(). A debugging aid (bench/latency
   * uses it); off by default, and then it costs a field check per batch.
   */
  trace?: boolean;
}

/** Milliseconds a loop waits after its source (Tun or Bind) failed unexpectedly, so it cannot spin. */
const ERROR_BACKOFF = 100;

/**
 * The Tun and UDP loops give way to the event loop after this many packets or milliseconds of
 * work, whichever comes first (turn-budget.ts): a timer or a UAPI request then waits at most about
 * 2 ms plus one batch behind a flood, and a busy loop yields about 500 times a second at most.
 */
const LOOP_TURN_PACKETS = 1024;
const LOOP_TURN_MS = 2;
/**
 * Handshake messages processed per turn, and the time after which a turn ends early: an answered
 * initiation costs four X25519 computations (a few hundred µs in Node), a cookie reply or a
 * rate-limited one a few µs, so the time bound is what keeps a turn short under a flood.
 */
const HANDSHAKE_TURN_MESSAGES = 64;
/** Peers of a UAPI get answer formatted per turn (about 2 µs each), or milliseconds, whichever first. */
const UAPI_TURN_PEERS = 500;
const UAPI_TURN_MS = 2;
const HANDSHAKE_TURN_MS = 2;

/** Sends every datagram of `batch` (to[i] each), waiting on sendReady when the bind is full. */
async function sendAll(bind: Bind, batch: PacketBatch, to: readonly Endpoint[]): Promise<void> {
  let sent = 0;
  while (sent < batch.length) {
    sent += bind.sendMany(batch, to, sent);
    if (sent < batch.length) await bind.sendReady();
  }
}

/**
 * Throws TunConfigError (ERR_DEVICE_MTU) unless `bind` carries the datagrams of a tunnel of `mtu`:
 * sealed, an MTU-sized packet is datagramSizeFor(mtu) bytes, which must fit one UDP datagram and
 * the Bind's maxDatagram (else every full-size packet would be dropped by one side or the other).
 */
function checkCarries(bind: Bind, mtu: number): void {
  if (mtu > MAX_TUNNEL_MTU) {
    throw new TunConfigError(
      'ERR_DEVICE_MTU',
      `MTU ${mtu} is too large for WireGuard over UDP: a sealed packet must fit one UDP datagram, so the MTU is at most ${MAX_TUNNEL_MTU}`,
    );
  }
  const needed = datagramSizeFor(mtu);
  if (bind.maxDatagram !== undefined && bind.maxDatagram < needed) {
    throw new TunConfigError(
      'ERR_DEVICE_MTU',
      `MTU ${mtu} needs UDP datagrams of ${needed} bytes and this Bind carries at most ${bind.maxDatagram}: open it with maxDatagram: datagramSizeFor(${mtu}) (openBind takes it), or lower the MTU`,
    );
  }
}

export class Device {
  readonly engine: Engine;
  readonly tun: Tun;
  private bind: Bind;
  private readonly batchSize: number;
  private readonly tickInterval: number;
  private readonly rebindHook: DeviceOptions['rebind'];
  private fwmark: number;
  private readonly log: (message: string, error?: unknown) => void;
  /** Aborts the ticker's sleep on close. */
  private readonly stopping = new AbortController();
  private loops: Promise<void>[] = [];
  /** Unexpected errors caught in the loops (each was also logged); they never stop a loop. */
  loopErrors = 0;
  private closed = false;
  private endReason: TunError | undefined;
  private readonly markEnded: (reason: TunError | undefined) => void;
  /**
   * Resolves once the Device stopped and released its Tun and Bind: with undefined after close(),
   * or with `endedBy` when its Tun ended under it. Never rejects.
   */
  readonly ended: Promise<TunError | undefined>;
  /** Resolves the handshake loop's wait for queued handshakes. */
  private handshakesWaiting: (() => void) | undefined;
  private readonly dataPlaneWanted: 'native' | 'js';
  /** The native data plane while it runs (see `dataPlane`). */
  private plane: DataPlaneSync | undefined;
  /** Why the native data plane does not run, when it was wanted. */
  private planeUnavailable: string | undefined;
  /** The JS loops' side of the trace, while tracing (DeviceOptions.trace). */
  private readonly tracer: TraceRecorder | undefined;
  /** What data planes stopped before (a rebind, close) had traced. */
  private readonly retiredTrace: TraceEvent[] = [];

  constructor(options: DeviceOptions) {
    let markEnded!: (reason: TunError | undefined) => void;
    this.ended = new Promise((resolve) => {
      markEnded = resolve;
    });
    this.markEnded = markEnded;
    this.tun = options.tun;
    checkCarries(options.bind, options.tun.mtu);
    this.bind = options.bind;
    this.batchSize = options.batchSize ?? 100;
    this.tickInterval = options.tickInterval ?? 100;
    this.rebindHook = options.rebind;
    this.log = options.log ?? ((message, error) => console.warn(`tunkit wireguard: ${message}`, error ?? ''));
    this.fwmark = 0;
    this.setFwmark(options.fwmark ?? 0); // throws when the Bind refuses (EPERM)
    this.dataPlaneWanted = options.dataPlane ?? 'native';
    this.tracer = options.trace ? new TraceRecorder() : undefined;
    this.engine = new Engine({ ...options, mtu: options.tun.mtu });
  }

  /**
   * Why the Device ended by itself: its Tun's `endedBy` (a TunOsError: errno, syscall) when the Tun
   * ended by itself, or a TunClosedError when the Tun was closed under the Device by someone else.
   * Undefined while it runs and after a plain close().
   */
  get endedBy(): TunError | undefined {
    return this.endReason;
  }

  get listenPort(): number {
    return this.bind.port;
  }

  /** Counters of the UDP side (the current Bind's). */
  bindStats(): BindStats {
    return this.bind.stats();
  }

  /**
   * Where transport data is sealed and opened: 'native' (the data plane's threads) or 'js' (this
   * thread), and why not native when it was wanted but cannot run. Settled by start().
   */
  get dataPlane(): { running: 'native' | 'js'; unavailable?: string; sealed?: number; opened?: number } {
    if (this.plane) {
      this.plane.pull();
      return { running: 'native', ...this.plane.totals };
    }
    return { running: 'js', ...(this.planeUnavailable ? { unavailable: this.planeUnavailable } : {}) };
  }

  addPeer(config: PeerConfig, allowedIps: readonly string[] = []) {
    const peer = this.engine.addPeer(config, allowedIps);
    this.plane?.syncAll();
    return peer;
  }

  /**
   * The trace (DeviceOptions.trace): each batch's times, from the native data plane and the JS
   * loops, ordered by when they were taken. Empty when not tracing.
   */
  traceEvents(): TraceEvent[] {
    if (!this.tracer) return [];
    const events = [...decodeTrace(this.tracer.rows()), ...this.retiredTrace, ...(this.plane?.traceEvents() ?? [])];
    return events.sort((a, b) => a.start - b.start);
  }

  /** Brings the peers' counters (bytes, last handshake marks) up to date with the data plane's. */
  syncCounters(): void {
    this.plane?.pull();
  }

  /** Starts moving packets. */
  start(): void {
    this.startDataPlane();
    this.loops = [this.tunLoop(), this.bindLoop(this.bind), this.handshakeLoop(), this.tickLoop()];
  }

  /** Stops the data plane (its threads leave the Tun and the Bind), keeping what it traced. */
  private retirePlane(): void {
    if (!this.plane) return;
    this.plane.close();
    if (this.tracer) this.retiredTrace.push(...this.plane.traceEvents());
    this.plane = undefined;
  }

  /** The native data plane on the current Tun and Bind, where wanted and possible. */
  private startDataPlane(): void {
    if (this.dataPlaneWanted !== 'native' || this.closed) return;
    this.planeUnavailable = dataPlaneUnavailable(this.tun, this.bind);
    if (this.planeUnavailable !== undefined) return;
    try {
      this.plane = new DataPlaneSync(this.engine, this.tun, this.bind, () => this.engine.allowPeerToPeer);
      if (this.tracer) this.plane.trace(true);
    } catch (error) {
      this.planeUnavailable = `the native data plane did not start: ${(error as Error).message}`;
      this.report('starting the native data plane (transport data stays on the JS thread)', error);
    }
  }

  private outBatch(): PacketBatch {
    // Room for a whole TUN batch sealed, plus handshake messages and flushed staged packets.
    const capacity = this.batchSize * 2 + 130;
    return new PacketBatch({ capacity, byteCapacity: capacity * (this.tun.mtu + 64) + 65_536 });
  }

  /** Counts and logs an unexpected error of one loop (never rethrown: the loop goes on). */
  private report(where: string, error: unknown): void {
    this.loopErrors++;
    this.log(`${where}: unexpected error (counted in loopErrors; the loop goes on)`, error);
  }

  /**
   * Runs the protocol timers every tickInterval. One batch, reused, and never refilled while its
   * datagrams are still being sent: the next tick waits for the previous send to finish.
   */
  private async tickLoop(): Promise<void> {
    const out = this.outBatch();
    const to: Endpoint[] = [];
    while (!this.closed) {
      try {
        await sleep(this.tickInterval, undefined, { signal: this.stopping.signal });
      } catch {
        return; // aborted by close
      }
      try {
        out.clear();
        this.plane?.pull();
        this.engine.tick(out, to);
        if (out.length > 0) await sendAll(this.bind, out, to);
      } catch (error) {
        if (this.closed) return;
        this.report('timers', error);
      }
    }
  }

  private async tunLoop(): Promise<void> {
    // Headroom and tailroom around each packet: sealing happens in place, no copy per packet.
    const packets = new PacketBatch({ capacity: this.batchSize, headroom: SEAL_HEADROOM, tailroom: SEAL_TAILROOM });
    const to: Endpoint[] = [];
    const out = this.outBatch();
    const outTo: Endpoint[] = [];
    const budget = new TurnBudget(LOOP_TURN_PACKETS, LOOP_TURN_MS);
    while (!this.closed) {
      let count: number;
      try {
        count = await this.tun.recvMany(packets);
      } catch (error) {
        if (this.closed) return;
        this.report('reading the Tun', error);
        await sleep(ERROR_BACKOFF);
        continue;
      }
      if (count <= 0) {
        // 0 without our close(): the Tun ended under us. Not awaited: close() awaits this loop.
        if (!this.closed) {
          this.endReason = this.tun.endedBy ?? new TunClosedError(`Tun ${this.tun.name} under its WireGuard Device`);
          this.close().catch((error) => this.report('closing after the Tun ended', error));
        }
        return;
      }
      try {
        const tracer = this.tracer;
        const started = tracer ? TraceRecorder.now() : 0;
        out.clear();
        this.engine.sealBatch(packets, to, out, outTo);
        const sealed = tracer ? TraceRecorder.now() : 0;
        await sendAll(this.bind, out, outTo); // handshakes first
        await sendAll(this.bind, packets, to);
        tracer?.record(2, count, started, sealed, TraceRecorder.now());
      } catch (error) {
        if (this.closed) return;
        this.report('sending to UDP', error);
      }
      await budget.spend(count);
    }
  }

  private async bindLoop(bind: Bind): Promise<void> {
    const byteCapacity = this.batchSize * Math.max(2048, this.tun.mtu + 64) + 65_536;
    const datagrams = new PacketBatch({ capacity: this.batchSize, byteCapacity });
    const from: Endpoint[] = [];
    // Opened in place: the Engine points the batch's table at the decrypted packets, which the
    // Tun takes from there (no copy, nothing allocated per packet; wireguard-go writes the TUN
    // from its receive buffers the same way).
    const tunOut = datagrams;
    const out = this.outBatch();
    const to: Endpoint[] = [];
    const budget = new TurnBudget(LOOP_TURN_PACKETS, LOOP_TURN_MS);
    let traceStarted = 0;
    let traceOpened = 0;
    while (!this.closed && bind === this.bind) {
      let count: number;
      try {
        count = await bind.recvMany(datagrams, from);
      } catch (error) {
        if (this.closed || bind !== this.bind) return;
        this.report('reading UDP', error);
        await sleep(ERROR_BACKOFF);
        continue;
      }
      if (count <= 0) return; // closed
      try {
        out.clear();
        traceStarted = this.tracer ? TraceRecorder.now() : 0;
        this.engine.receiveBatch(datagrams, from, tunOut, out, to);
        traceOpened = this.tracer ? TraceRecorder.now() : 0;
        if (this.engine.handshakesQueued > 0) this.wakeHandshakes();
      } catch (error) {
        this.report('processing UDP', error);
        await budget.spend(count);
        continue;
      }
      if (out.length > 0) {
        try {
          await sendAll(bind, out, to);
        } catch (error) {
          if (this.closed || bind !== this.bind) return;
          this.report('answering on UDP', error);
        }
      }
      // Backpressure: the next UDP batch is read only once the Tun took all of this one.
      let written = 0;
      try {
        while (written < tunOut.length && !this.tun.closed) {
          written += this.tun.sendMany(tunOut, written);
          if (written < tunOut.length) await this.tun.sendReady(); // close settles it (Tun contract)
        }
      } catch (error) {
        // The Engine only hands over packets the Tun takes (IP, within its MTU); if the Tun still
        // refuses, the rest of this batch is lost, counted, and the loop reads on.
        if (this.closed) return;
        this.report(`writing to the Tun (${tunOut.length - written} packets of this batch lost)`, error);
      }
      this.tracer?.record(3, count, traceStarted, traceOpened, TraceRecorder.now());
      await budget.spend(count);
    }
  }

  /**
   * Processes the Engine's queued initiations and responses, one bounded turn at a time
   * (HANDSHAKE_TURN_*), giving way to the event loop after each: a flood of handshakes costs the
   * data path and the timers at most one short turn between theirs. Sleeps while none is queued.
   */
  private async handshakeLoop(): Promise<void> {
    const out = this.outBatch();
    const to: Endpoint[] = [];
    while (!this.closed) {
      if (this.engine.handshakesQueued === 0) {
        await new Promise<void>((resolve) => {
          this.handshakesWaiting = resolve;
        });
        continue;
      }
      try {
        out.clear();
        this.engine.processHandshakes(out, to, HANDSHAKE_TURN_MESSAGES, HANDSHAKE_TURN_MS);
        if (out.length > 0) await sendAll(this.bind, out, to);
      } catch (error) {
        if (this.closed) return;
        this.report('processing handshakes', error);
      }
      await nextTurn();
    }
  }

  /** Wakes the handshake loop if it sleeps (handshakes were queued, or the Device closes). */
  private wakeHandshakes(): void {
    const resolve = this.handshakesWaiting;
    this.handshakesWaiting = undefined;
    resolve?.();
  }

  /** Answers UAPI requests for this device: pass it to UapiServer.listen as `handler`. */
  readonly uapiHandler: UapiHandler = async (operation, body) => {
    if (operation === 'get') return { lines: await this.uapiGetInTurns(), errno: 0 };
    try {
      await this.uapiSet(body);
      return { lines: '', errno: 0 };
    } catch (error) {
      if (error instanceof UapiError) return { lines: '', errno: error.errno }; // `wg set` prints it
      throw error;
    }
  };

  /** The UAPI get=1 answer, at once (see uapiGetInTurns for a Device with many peers). */
  uapiGet(): string {
    this.plane?.pull(); // the bytes and marks the data plane counted since the last timer run
    return (
      formatUapiInterface(this.interfaceSnapshot()) +
      [...this.engine.peers()].map((p) => formatUapiPeer(this.peerSnapshot(p))).join('')
    );
  }

  /**
   * The UAPI get=1 answer, built UAPI_TURN_PEERS peers (or UAPI_TURN_MS) at a time, giving way to
   * the event loop in between: with 5,000 peers the answer takes about 20 ms of JS work, which
   * would otherwise hold every loop of the Device for that long. A peer removed meanwhile may
   * still be listed; counters are read as each peer's turn comes.
   */
  async uapiGetInTurns(): Promise<string> {
    this.plane?.pull();
    const parts = [formatUapiInterface(this.interfaceSnapshot())];
    const budget = new TurnBudget(UAPI_TURN_PEERS, UAPI_TURN_MS);
    for (const peer of [...this.engine.peers()]) {
      parts.push(formatUapiPeer(this.peerSnapshot(peer)));
      await budget.spend(1);
    }
    return parts.join('');
  }

  private interfaceSnapshot() {
    return { privateKey: this.engine.privateKey, listenPort: this.bind.port, fwmark: this.fwmark };
  }

  private peerSnapshot(peer: Peer): PeerSnapshot {
    return {
      publicKey: peer.publicKey,
      presharedKey: peer.presharedKey,
      endpoint: peer.endpoint,
      lastHandshakeWallMs: peer.lastHandshakeWallMs,
      rxBytes: peer.rxBytes,
      txBytes: peer.txBytes,
      persistentKeepalive: peer.persistentKeepalive,
      allowedIps: this.engine.allowedIps.prefixesOf(peer),
    };
  }

  /** Applies a UAPI set=1 body; throws UapiError (with its errno) when it cannot. */
  async uapiSet(body: string): Promise<void> {
    const request = parseUapiSet(body);
    // The same key again keeps every session (wg syncconf re-sends it each time).
    if (request.privateKey) this.engine.setPrivateKey(request.privateKey);
    if (request.fwmark !== undefined) {
      try {
        this.setFwmark(request.fwmark);
      } catch (error) {
        // wg set … fwmark without CAP_NET_ADMIN: EPERM, as the kernel would answer setsockopt.
        const errno = (error as { errno?: unknown }).errno === 'EPERM' ? EPERM : EIO;
        throw new UapiError(`cannot set fwmark ${request.fwmark}: ${(error as Error).message}`, errno);
      }
    }
    if (request.listenPort !== undefined && request.listenPort !== this.bind.port) {
      await this.moveToPort(request.listenPort);
    }
    if (request.replacePeers) for (const peer of [...this.engine.peers()]) this.engine.removePeer(peer);
    for (const op of request.peers) {
      const existing = this.engine.peer(op.publicKey);
      if (op.remove) {
        if (existing) this.engine.removePeer(existing);
        continue;
      }
      if (op.updateOnly && !existing) continue;
      const peer = existing ?? this.engine.addPeer({ publicKey: op.publicKey });
      if (op.presharedKey) peer.presharedKey = op.presharedKey.every((b) => b === 0) ? undefined : op.presharedKey;
      if (op.endpoint) peer.endpoint = op.endpoint;
      if (op.persistentKeepalive !== undefined) peer.persistentKeepalive = op.persistentKeepalive;
      if (op.replaceAllowedIps) this.engine.allowedIps.removeValue(peer);
      for (const prefix of op.allowedIps) this.engine.allowedIps.insert(prefix, peer);
    }
    this.plane?.syncAll();
  }

  /** Switches to a Bind on `port` through the rebind option; UapiError EADDRINUSE when it cannot. */
  private async moveToPort(port: number): Promise<void> {
    if (!this.rebindHook) throw new UapiError('this device cannot change its listen port', EADDRINUSE);
    let adopted = false;
    const adopt = async (bind: Bind) => {
      if (adopted) throw new Error('rebind adopted a second Bind');
      try {
        checkCarries(bind, this.tun.mtu);
      } catch (error) {
        await bind.close();
        throw error;
      }
      if (this.fwmark !== 0) {
        try {
          this.markBind(bind, this.fwmark); // the new socket's datagrams carry the mark too
        } catch (error) {
          await bind.close();
          throw error;
        }
      }
      adopted = true;
      const old = this.bind;
      // The data plane sends through the old socket: it stops before that closes, and starts again
      // on the new one (taking over every keypair's counter and window).
      this.retirePlane();
      this.bind = bind;
      await old.close();
      this.startDataPlane();
      this.loops.push(this.bindLoop(bind));
    };
    try {
      await this.rebindHook(port, adopt);
    } catch (error) {
      if (adopted) throw error;
      // wireguard-go answers a failed rebind with EADDRINUSE; the old socket stays in use.
      throw new UapiError(`cannot listen on port ${port}: ${(error as Error).message}`, EADDRINUSE);
    }
    if (!adopted) throw new UapiError(`cannot listen on port ${port}: no Bind was opened`, EADDRINUSE);
  }

  /** Applies the fwmark to the Bind (see DeviceOptions.fwmark) and records it; throws what the Bind throws. */
  private setFwmark(mark: number): void {
    const changed = mark !== this.fwmark;
    this.markBind(this.bind, mark);
    if (changed && mark !== 0 && this.bind.setFwmark === undefined) {
      this.log(
        `fwmark ${mark} is recorded (wg show lists it) but not applied: this UDP bind cannot set SO_MARK on its socket (node:dgram cannot); use the native bind (Linux), or route by the listen port instead`,
      );
    }
    this.fwmark = mark;
  }

  /** SO_MARK on `bind`, where it can mark (a mark of 0 on a socket never marked needs no call). */
  private markBind(bind: Bind, mark: number): void {
    if (bind.setFwmark !== undefined && (mark !== 0 || this.fwmark !== 0)) bind.setFwmark(mark);
  }

  /** Stops the loops and the ticker, and closes the Tun and the Bind; then `ended` resolves. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopping.abort();
    this.wakeHandshakes();
    try {
      this.retirePlane(); // its threads leave the Tun and the Bind before they close
      await this.tun.close();
      await this.bind.close();
      await Promise.allSettled(this.loops);
    } finally {
      this.markEnded(this.endReason);
    }
  }
}
