// Device: joins a Tun, a Bind and the WireGuard Engine, and moves batches between them.
//   TUN batch → route and seal (Engine.sealBatch) → UDP batch;
//   UDP batch → open, check, answer handshakes (Engine.receiveBatch) → TUN batch, written with
//   backpressure: while the Tun cannot take more, UDP is not read (so no queue grows without bound).
// A ticker drives the protocol timers. The UAPI socket (wg show / wg set) plugs into uapiGet/uapiSet.

import { PacketBatch, type Tun } from '@tunkit/tun-core';
import type { Bind, BindStats, Endpoint } from '../bind/bind.js';
import { formatUapiGet, parseUapiSet, UapiError } from '../config/uapi.js';
import { Engine, type EngineOptions } from '../protocol/engine.js';
import type { PeerConfig } from '../protocol/peer.js';
import { SEAL_HEADROOM, SEAL_TAILROOM } from '../protocol/seal.js';
import type { UapiHandler } from '../uapi/uapi-server.js';

export interface DeviceOptions extends Omit<EngineOptions, 'mtu'> {
  tun: Tun;
  bind: Bind;
  /** Packets per batch (default 100). */
  batchSize?: number;
  /** Milliseconds between timer runs (default 100). */
  tickInterval?: number;
  /** Opens a new Bind on another port, for `wg set ... listen-port`. */
  rebind?: (port: number) => Promise<Bind>;
  fwmark?: number;
  /**
   * Handshake initiations per second above which the device is "under load" and asks initiators
   * for a cookie (MAC2) before doing any Diffie-Hellman work (default 128).
   */
  underLoadThreshold?: number;
}

/** Sends every datagram of `batch` (to[i] each), waiting on sendReady when the bind is full. */
async function sendAll(bind: Bind, batch: PacketBatch, to: readonly Endpoint[]): Promise<void> {
  let sent = 0;
  while (sent < batch.length) {
    sent += bind.sendMany(batch, to, sent);
    if (sent < batch.length) await bind.sendReady();
  }
}

export class Device {
  readonly engine: Engine;
  readonly tun: Tun;
  private bind: Bind;
  private readonly batchSize: number;
  private readonly tickInterval: number;
  private readonly rebindFactory: DeviceOptions['rebind'];
  private fwmark: number;
  private ticker: NodeJS.Timeout | undefined;
  private loops: Promise<void>[] = [];
  private closed = false;
  private initiationsThisSecond = 0;
  private secondStartedAt = 0;

  constructor(options: DeviceOptions) {
    this.tun = options.tun;
    this.bind = options.bind;
    this.batchSize = options.batchSize ?? 100;
    this.tickInterval = options.tickInterval ?? 100;
    this.rebindFactory = options.rebind;
    this.fwmark = options.fwmark ?? 0;
    const threshold = options.underLoadThreshold ?? 128;
    this.engine = new Engine({
      ...options,
      mtu: options.tun.mtu,
      underLoad: options.underLoad ?? (() => this.initiationsThisSecond > threshold),
    });
  }

  get listenPort(): number {
    return this.bind.port;
  }

  /** Counters of the UDP side (the current Bind's). */
  bindStats(): BindStats {
    return this.bind.stats();
  }

  addPeer(config: PeerConfig, allowedIps: readonly string[] = []) {
    return this.engine.addPeer(config, allowedIps);
  }

  /** Starts moving packets. */
  start(): void {
    this.loops = [this.tunLoop(), this.bindLoop(this.bind)];
    const out = this.outBatch();
    const to: Endpoint[] = [];
    this.ticker = setInterval(() => {
      out.clear();
      this.engine.tick(out, to);
      if (out.length > 0) void sendAll(this.bind, out, to).catch(() => {});
    }, this.tickInterval);
  }

  private outBatch(): PacketBatch {
    // Room for a whole TUN batch sealed, plus handshake messages and flushed staged packets.
    const capacity = this.batchSize * 2 + 130;
    return new PacketBatch({ capacity, byteCapacity: capacity * (this.tun.mtu + 64) + 65_536 });
  }

  private async tunLoop(): Promise<void> {
    // Headroom and tailroom around each packet: sealing happens in place, no copy per packet.
    const packets = new PacketBatch({ capacity: this.batchSize, headroom: SEAL_HEADROOM, tailroom: SEAL_TAILROOM });
    const to: Endpoint[] = [];
    const out = this.outBatch();
    const outTo: Endpoint[] = [];
    while (!this.closed && (await this.tun.recvMany(packets)) > 0) {
      out.clear();
      this.engine.sealBatch(packets, to, out, outTo);
      try {
        await sendAll(this.bind, out, outTo); // handshakes first
        await sendAll(this.bind, packets, to);
      } catch {
        if (this.closed) return;
      }
    }
  }

  private async bindLoop(bind: Bind): Promise<void> {
    const datagrams = new PacketBatch({ capacity: this.batchSize, byteCapacity: this.batchSize * 2048 + 65_536 });
    const from: Endpoint[] = [];
    const tunOut = new PacketBatch({ capacity: this.batchSize });
    const out = this.outBatch();
    const to: Endpoint[] = [];
    while (!this.closed && bind === this.bind && (await bind.recvMany(datagrams, from)) > 0) {
      this.countInitiations(datagrams);
      tunOut.clear();
      out.clear();
      this.engine.receiveBatch(datagrams, from, tunOut, out, to);
      if (out.length > 0) await sendAll(bind, out, to).catch(() => {});
      // Backpressure: the next UDP batch is read only once the Tun took all of this one.
      let written = 0;
      while (written < tunOut.length && !this.tun.closed) {
        written += this.tun.sendMany(tunOut, written);
        if (written < tunOut.length) await this.tun.sendReady();
      }
    }
  }

  /** Counts handshake initiations in a received batch, per second, for the under-load decision. */
  private countInitiations(datagrams: PacketBatch): void {
    const now = performance.now();
    if (now - this.secondStartedAt >= 1000) {
      this.secondStartedAt = now;
      this.initiationsThisSecond = 0;
    }
    for (let i = 0; i < datagrams.length; i++) {
      if (datagrams.buffer[datagrams.offsets[i] as number] === 1) this.initiationsThisSecond++;
    }
  }

  /** Answers UAPI requests for this device: pass it to UapiServer.listen as `handler`. */
  readonly uapiHandler: UapiHandler = async (operation, body) => {
    if (operation === 'get') return { lines: this.uapiGet(), errno: 0 };
    try {
      await this.uapiSet(body);
      return { lines: '', errno: 0 };
    } catch (error) {
      if (error instanceof UapiError) return { lines: '', errno: error.errno }; // `wg set` prints it
      throw error;
    }
  };

  /** The UAPI get=1 answer. */
  uapiGet(): string {
    return formatUapiGet({
      privateKey: this.engine.privateKey,
      listenPort: this.bind.port,
      fwmark: this.fwmark,
      peers: [...this.engine.peers()].map((peer) => ({
        publicKey: peer.publicKey,
        presharedKey: peer.presharedKey,
        endpoint: peer.endpoint,
        lastHandshakeWallMs: peer.lastHandshakeWallMs,
        rxBytes: peer.rxBytes,
        txBytes: peer.txBytes,
        persistentKeepalive: peer.persistentKeepalive,
        allowedIps: this.engine.allowedIps.prefixesOf(peer),
      })),
    });
  }

  /** Applies a UAPI set=1 body; throws UapiError (with its errno) when it cannot. */
  async uapiSet(body: string): Promise<void> {
    const request = parseUapiSet(body);
    if (request.privateKey) this.engine.setPrivateKey(request.privateKey);
    if (request.fwmark !== undefined) this.fwmark = request.fwmark;
    if (request.listenPort !== undefined && request.listenPort !== this.bind.port) {
      if (!this.rebindFactory) throw new UapiError('this device cannot change its listen port');
      const old = this.bind;
      this.bind = await this.rebindFactory(request.listenPort);
      await old.close();
      this.loops.push(this.bindLoop(this.bind));
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
  }

  /** Stops the loops and the ticker, and closes the Tun and the Bind. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ticker) clearInterval(this.ticker);
    await this.tun.close();
    await this.bind.close();
    await Promise.allSettled(this.loops);
  }
}
