// LinuxUdpBind: the Bind (bind.ts) over the addon's native non-blocking UDP socket, Linux only:
// one recvmmsg fills a whole PacketBatch (with UDP GRO, a message of several coalesced datagrams is
// split back into packets), one sendmmsg sends one (runs of equal-size datagrams to one peer as a
// single UDP GSO message), readiness from a libuv poll on the fd. No thread, no copy
// through a queue, no object per datagram: endpoints are cached by their 20-byte address form.
// The kernel's socket buffers are the bounds: a full send buffer is the send backpressure; a full
// receive buffer drops in the kernel (reported by /proc/net/udp, not here).
// Once its packet port is handed out (nativePort, for the native data plane), a native thread
// reads the socket and recvMany drains what that thread passes on: a bounded channel (its
// overflow counted in rxDropped), one wake-up per batch.

import {
  formatIpAddress,
  type NativePacketPort,
  type PacketBatch,
  parseIpAddress,
  TunClosedError,
  TunConfigError,
  TunOsError,
} from '@tunkit/tun-core';
import { callNative, type NativeUdpSocket, native } from '../native.js';
import { type Bind, BindPortInUseError, type BindStats, type Endpoint, emptyBindStats } from './bind.js';

export interface LinuxUdpBindOptions {
  /** Local port; 0 picks an ephemeral one (default 0). */
  port?: number;
  /** Local address (default "::" dual-stack, or "0.0.0.0" when `ipv6: false`). */
  address?: string;
  /** A dual-stack IPv6 socket (default true). */
  ipv6?: boolean;
  /** Largest datagram received, in bytes (default 2048); larger ones are dropped and counted. */
  maxDatagram?: number;
  /** Socket buffer sizes in bytes (default 8 MiB each). */
  socketBuffer?: number;
  /** Send runs of equal-size datagrams as UDP GSO messages (default true; off by itself where unsupported). */
  gso?: boolean;
  /**
   * Receive with UDP GRO: the kernel hands over runs of datagrams from one sender as one message,
   * split back into packets here (default true; off where the kernel refuses it, see `gro`).
   * Measured with bench/iperf3 (queues=2, -t 5, median of 3 quiet A/B pairs): TCP 3.24 → 3.79 Gbit/s
   * forward, 3.27 → 3.80 reverse, UDP loss at 1 Gbit/s 4.1 % → 1.8 %.
   */
  gro?: boolean;
  /**
   * Native threads that receive once the packet port is handed out (nativePort), 1..16 (default
   * 1). Above 1 the socket and one more per thread form an SO_REUSEPORT group on the port: the
   * kernel spreads senders over them by address (one sender always to one thread), so a gateway's
   * many peers are opened on several cores. Any process of the same user could join the group and
   * take a share of the datagrams, as it could read this process's memory anyway.
   */
  receiveThreads?: number;
}

export interface LinuxUdpBindStats extends BindStats {
  /** UDP messages sent: fewer than txDatagrams when GSO carried several datagrams in one. */
  txMessages: number;
  /**
   * Datagrams native senders (the data plane, through the port) dropped: the socket buffer stayed
   * full past a short wait, or the socket was closing. JS's own sends wait on sendReady instead.
   */
  txDropped: number;
  /** UDP messages received: fewer than rxDatagrams when GRO coalesced several datagrams into one. */
  rxMessages: number;
}

/**
 * An address in the socket's form (native/linux/udp_address.hh): [family 4|6, 0, port hi, port
 * lo, 16 address bytes, IPv6 scope id as a uint32 in host order: little-endian on every Linux target]. Family 0: an endpoint that could
 * not be encoded, which the socket refuses (counted) rather than send anywhere.
 */
const ADDRESS_BYTES = 24;
const SCOPE_AT = 20;
/** Received senders remembered at once (a power of two). */
const RECEIVED_SLOTS = 256;

/**
 * Where a received sender's Endpoint keeps the address form the socket reported (for replies): a
 * non-enumerable symbol, so the Endpoint still is, and compares as, a plain { address, port }.
 */
const RAW = Symbol('tunkit.udpAddress');
type ReceivedEndpoint = Endpoint & { readonly [RAW]: Uint8Array };

function receivedEndpoint(address: string, port: number, raw: Uint8Array): ReceivedEndpoint {
  const endpoint = { address, port };
  Object.defineProperty(endpoint, RAW, { value: raw });
  return endpoint as ReceivedEndpoint;
}

export class LinuxUdpBind implements Bind {
  /** Which implementation this is (openBind's choice, for logs). */
  readonly backend = 'native';
  private readonly socket: NativeUdpSocket;
  /** The largest datagram received (larger ones are dropped, counted) and sent. */
  readonly maxDatagram: number;
  private readonly meta = new Uint32Array(9);
  private recvAddresses = new Uint8Array(0);
  private sendAddresses = new Uint8Array(0);
  /** The socket's form of endpoints given to sendMany that this bind did not make (a peer's configured one). */
  private readonly encoded = new WeakMap<Endpoint, Uint8Array>();
  /** Received senders, direct-mapped by a hash of their address form (see lookUp). */
  private readonly received: (ReceivedEndpoint | undefined)[] = new Array(RECEIVED_SLOTS).fill(undefined);
  private readonly lastRaw = new Uint8Array(ADDRESS_BYTES);
  private lastEndpoint: Endpoint | undefined;
  private readable: (() => void) | undefined;
  private writable: (() => void)[] = [];
  private blocked = false;
  private isClosed = false;
  /** The receive thread reads the socket (nativePort was called): recvMany drains what it passes on. */
  private threaded = false;
  private readonly boundPort: number;
  private readonly counters: LinuxUdpBindStats = { ...emptyBindStats(), txMessages: 0, txDropped: 0, rxMessages: 0 };

  /**
   * Opens and binds the socket. A taken port throws BindPortInUseError; other OS refusals TunOsError
   * naming the port; off Linux, TunConfigError (ERR_BIND_UNSUPPORTED).
   */
  static async open(options: LinuxUdpBindOptions = {}): Promise<LinuxUdpBind> {
    return new LinuxUdpBind(options);
  }

  private constructor(options: LinuxUdpBindOptions) {
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new TunConfigError('ERR_BIND_PORT', `listen port must be an integer in 0..65535, got ${port}`);
    }
    this.maxDatagram = options.maxDatagram ?? 2048;
    if (!Number.isInteger(this.maxDatagram) || this.maxDatagram < 64 || this.maxDatagram > 65535) {
      throw new TunConfigError(
        'ERR_BIND_OPTION',
        `maxDatagram must be an integer in 64..65535, got ${options.maxDatagram}`,
      );
    }
    const receiveThreads = options.receiveThreads ?? 1;
    if (!Number.isInteger(receiveThreads) || receiveThreads < 1 || receiveThreads > 16) {
      throw new TunConfigError(
        'ERR_BIND_OPTION',
        `receiveThreads must be an integer in 1..16, got ${options.receiveThreads}`,
      );
    }
    const ipv6 = options.ipv6 ?? true;
    const address = parseIpAddress(options.address ?? (ipv6 ? '::' : '0.0.0.0'));
    const Socket = native().UdpSocket;
    if (Socket === undefined) {
      throw new TunConfigError(
        'ERR_BIND_UNSUPPORTED',
        `LinuxUdpBind runs on Linux only, this is ${process.platform}: use UdpBind (node:dgram), or openBind, which picks`,
      );
    }
    try {
      this.socket = callNative(
        () =>
          new Socket(
            {
              address,
              port,
              ipv6,
              bufferBytes: options.socketBuffer ?? 8 << 20,
              gso: options.gso ?? true,
              gro: options.gro ?? true,
              receiveThreads,
            },
            (readable, writable) => this.onReady(readable, writable),
          ),
      );
    } catch (error) {
      if (error instanceof TunOsError && error.errno === 'EADDRINUSE')
        throw new BindPortInUseError(port, { cause: error });
      throw error;
    }
    this.boundPort = this.socket.port();
  }

  get port(): number {
    return this.boundPort;
  }

  /** True when the socket receives with UDP GRO (asked for, and the kernel accepted it). */
  /** SO_MARK on the socket (see Bind.setFwmark); throws TunOsError EPERM without CAP_NET_ADMIN. */
  setFwmark(mark: number): void {
    if (!Number.isInteger(mark) || mark < 0 || mark > 0xffff_ffff) {
      throw new TunConfigError('ERR_BIND_OPTION', `fwmark must be an integer in 0..4294967295, got ${mark}`);
    }
    if (this.isClosed) throw new TunClosedError('UDP bind');
    callNative(() => this.socket.setMark(mark));
  }

  /** The socket's SO_MARK, as the kernel reports it (getsockopt). */
  get fwmark(): number {
    return this.isClosed ? 0 : this.socket.mark();
  }

  get gro(): boolean {
    return this.socket.gro();
  }

  /**
   * Waits for at least one datagram, then fills `batch` (cleared first) with one recvmmsg, or,
   * once the receive thread reads, with what it passed on.
   */
  async recvMany(batch: PacketBatch, from: Endpoint[]): Promise<number> {
    for (;;) {
      if (this.isClosed) return 0;
      const n = this.threaded ? this.drainPunted(batch, from) : this.drain(batch, from);
      if (n > 0) return n;
      await new Promise<void>((resolve) => {
        this.readable = resolve;
        if (!this.threaded) this.socket.poll(true, this.writable.length > 0);
      });
    }
  }

  /**
   * The socket's packet port (Bind.nativePort). The first call starts the receive thread: from
   * then on a pending recvMany waits for what it passes on instead of the socket.
   */
  nativePort(): NativePacketPort {
    if (this.isClosed) throw new TunClosedError('UDP bind');
    const port = callNative(() => this.socket.nativePort(this.maxDatagram, this.onPunted)) as NativePacketPort;
    if (!this.threaded) {
      this.threaded = true;
      this.onPunted(); // a recvMany waiting for the socket now waits for the thread
    }
    return port;
  }

  /** The receive thread passed datagrams on (once per batch). */
  private readonly onPunted = (): void => {
    const resolve = this.readable;
    this.readable = undefined;
    resolve?.();
  };

  /** Clears `batch`, sizes the address array for it, and writes its shape into meta[0..3] for the addon. */
  private prepareReceive(batch: PacketBatch): Uint32Array {
    batch.clear();
    if (this.recvAddresses.length < batch.capacity * ADDRESS_BYTES)
      this.recvAddresses = new Uint8Array(batch.capacity * ADDRESS_BYTES);
    const meta = this.meta;
    meta[0] = batch.capacity;
    meta[1] = batch.byteCapacity;
    meta[2] = batch.headroom;
    meta[3] = batch.tailroom;
    return meta;
  }

  /** Moves what the receive thread passed on into `batch` (cleared first). Counted natively (portStats). */
  private drainPunted(batch: PacketBatch, from: Endpoint[]): number {
    const meta = this.prepareReceive(batch);
    meta[4] = 0;
    meta[5] = 0;
    const n = callNative(() =>
      this.socket.drainPunted(batch.buffer, batch.offsets, batch.lengths, meta, this.recvAddresses),
    );
    batch.length = meta[4] as number;
    batch.bytesUsed = meta[5] as number;
    for (let i = 0; i < n; i++) from[i] = this.endpointAt(i);
    return n;
  }

  /** The Endpoint for an address in the native form (Bind.endpointFromAddress). */
  endpointFromAddress(address: Uint8Array): Endpoint {
    return this.lookUp(address, 0);
  }

  /** An endpoint in the native form (Bind.addressOfEndpoint; family 0 when the socket cannot send there); do not modify it. */
  addressOfEndpoint(endpoint: Endpoint): Uint8Array {
    return this.encode(endpoint);
  }

  private drain(batch: PacketBatch, from: Endpoint[]): number {
    const meta = this.prepareReceive(batch);
    meta[6] = 0;
    meta[8] = 0;
    const received = callNative(() =>
      this.socket.recv(batch.buffer, batch.offsets, batch.lengths, meta, this.recvAddresses, this.maxDatagram),
    );
    const kept = meta[4] as number;
    batch.length = kept;
    batch.bytesUsed = meta[5] as number;
    this.counters.rxDropped += meta[6] as number;
    this.counters.rxBadSource += meta[8] as number;
    for (let i = 0; i < kept; i++) {
      from[i] = this.endpointAt(i);
      this.counters.rxBytes += batch.lengths[i] as number;
    }
    this.counters.rxDatagrams += kept;
    this.counters.rxMessages += meta[7] as number;
    return received > 0 && kept === 0 ? this.drain(batch, from) : kept;
  }

  /** The Endpoint for received address i: the previous object when the bytes are the same. */
  private endpointAt(i: number): Endpoint {
    const a = this.recvAddresses;
    const at = i * ADDRESS_BYTES;
    const last = this.lastEndpoint;
    if (last !== undefined) {
      let same = true;
      for (let b = 0; b < ADDRESS_BYTES && same; b++) same = a[at + b] === this.lastRaw[b];
      if (same) return last; // the usual case: a batch from one peer allocates nothing
    }
    this.lastRaw.set(a.subarray(at, at + ADDRESS_BYTES));
    this.lastEndpoint = this.lookUp(a, at);
    return this.lastEndpoint;
  }

  /**
   * The Endpoint for the address form at `at` of `a`: the one made for the same bytes before, if
   * its slot still holds it, else a new one that takes the slot. A direct-mapped cache of
   * RECEIVED_SLOTS slots: bounded, and a flood from many sources costs one object per new sender
   * and no string keys, maps or weak entries (which kept tens of megabytes alive until a full
   * collection when 1,000 addresses × 64 ports sent initiations).
   */
  private lookUp(a: Uint8Array, at: number): Endpoint {
    let hash = 0x811c9dc5; // FNV-1a over the address form
    for (let b = 0; b < ADDRESS_BYTES; b++) hash = Math.imul(hash ^ (a[at + b] as number), 16777619);
    const slot = (hash >>> 0) & (RECEIVED_SLOTS - 1);
    const cached = this.received[slot];
    if (cached !== undefined) {
      let same = true;
      const known = cached[RAW];
      for (let b = 0; b < ADDRESS_BYTES && same; b++) same = known[b] === a[at + b];
      if (same) return cached;
    }
    const port = ((a[at + 2] as number) << 8) | (a[at + 3] as number);
    const raw = a.slice(at, at + ADDRESS_BYTES);
    const scope = raw[0] === 6 ? readScope(raw, 0) : 0;
    // A link-local sender keeps its interface as a numeric zone ("fe80::1%3"): the reply must
    // leave through it (the cookie code and `wg show` read the zone as any other).
    const text = formatIpAddress(raw.subarray(4, raw[0] === 4 ? 8 : 20));
    const endpoint = receivedEndpoint(scope === 0 ? text : `${text}%${scope}`, port, raw);
    this.received[slot] = endpoint;
    return endpoint;
  }

  /**
   * The socket's form of `endpoint`, cached per Endpoint object. What cannot be sent to still
   * encodes: port 0 as is, and an address that does not parse (or a zone that is not an interface
   * number) as family 0; the socket refuses both, counted, for that datagram alone.
   */
  private encode(endpoint: Endpoint): Uint8Array {
    const raw = (endpoint as Partial<ReceivedEndpoint>)[RAW];
    if (raw !== undefined) return raw;
    let bytes = this.encoded.get(endpoint);
    if (bytes === undefined) {
      bytes = new Uint8Array(ADDRESS_BYTES);
      const port = Number.isInteger(endpoint.port) && endpoint.port > 0 && endpoint.port <= 65535 ? endpoint.port : 0;
      bytes[2] = port >> 8;
      bytes[3] = port & 0xff;
      const percent = endpoint.address.indexOf('%');
      const zone = percent < 0 ? '0' : endpoint.address.slice(percent + 1);
      let address: Uint8Array | undefined;
      try {
        address = parseIpAddress(percent < 0 ? endpoint.address : endpoint.address.slice(0, percent));
      } catch {
        address = undefined; // family 0: refused by the socket, counted
      }
      if (address !== undefined && /^\d{1,10}$/.test(zone) && (zone === '0' || address.length === 16)) {
        bytes[0] = address.length === 16 ? 6 : 4;
        bytes.set(address, 4);
        if (address.length === 16) writeScope(bytes, 0, Number(zone));
      }
      this.encoded.set(endpoint, bytes);
    }
    return bytes;
  }

  /** Sends datagrams start.. of `batch` to `to[i]` (or `to`) with sendmmsg; returns how many were taken. */
  sendMany(batch: PacketBatch, to: readonly Endpoint[] | Endpoint, start = 0): number {
    if (this.isClosed) throw new TunClosedError('UDP bind');
    const count = batch.length - start;
    if (count <= 0) return 0;
    if (this.sendAddresses.length < count * ADDRESS_BYTES)
      this.sendAddresses = new Uint8Array(Math.max(count, 128) * ADDRESS_BYTES);
    const single = Array.isArray(to) ? undefined : this.encode(to as Endpoint);
    for (let i = 0; i < count; i++) {
      const endpoint = single ?? (to as readonly Endpoint[])[start + i];
      if (endpoint === undefined)
        throw new TunConfigError('ERR_BIND_ENDPOINT', `no endpoint for datagram ${start + i}`);
      this.sendAddresses.set(single ?? this.encode(endpoint as Endpoint), i * ADDRESS_BYTES);
    }
    const [taken, errors, messages, badEndpoints] = callNative(() =>
      this.socket.send(batch.buffer, batch.offsets, batch.lengths, start, batch.length, this.sendAddresses),
    );
    for (let i = start; i < start + taken; i++) this.counters.txBytes += batch.lengths[i] as number;
    this.counters.txDatagrams += taken - errors - badEndpoints;
    this.counters.txErrors += errors;
    this.counters.txBadEndpoint += badEndpoints;
    this.counters.txMessages += messages;
    if (taken < count) {
      this.counters.txRefused++;
      this.blocked = true;
    }
    return taken;
  }

  /** Resolves when the socket can take more (at once unless the last sendMany filled it). */
  sendReady(): Promise<void> {
    if (this.isClosed || !this.blocked) return Promise.resolve();
    return new Promise((resolve) => {
      this.writable.push(resolve);
      this.socket.poll(this.readable !== undefined, true);
    });
  }

  private onReady(readable: boolean, writable: boolean): void {
    if (writable) {
      this.blocked = false;
      const waiters = this.writable;
      this.writable = [];
      for (const resolve of waiters) resolve();
    }
    if (readable && this.readable) {
      const resolve = this.readable;
      this.readable = undefined;
      resolve();
    }
    // Re-arm whatever is still awaited (the native poll is one-shot per event).
    if (!this.isClosed && (this.readable !== undefined || this.writable.length > 0)) {
      this.socket.poll(this.readable !== undefined, this.writable.length > 0);
    }
  }

  /** JS's own counters, plus what the native side (the port's senders, the receive thread) counted. */
  stats(): LinuxUdpBindStats {
    const stats = { ...this.counters };
    if (!this.threaded && this.isClosed) return stats;
    const p = this.socket.portStats();
    stats.txDatagrams += p[0] as number;
    stats.txBytes += p[1] as number;
    stats.txMessages += p[2] as number;
    stats.txErrors += p[3] as number;
    stats.txDropped = p[4] as number;
    stats.txBadEndpoint += p[5] as number;
    stats.rxDatagrams += p[6] as number;
    stats.rxBytes += p[7] as number;
    stats.rxMessages += p[8] as number;
    stats.rxDropped += p[9] as number;
    stats.rxBadSource += p[10] as number;
    return stats;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.socket.close();
    this.readable?.();
    this.readable = undefined;
    for (const resolve of this.writable) resolve();
    this.writable = [];
  }
}

/** The little-endian IPv6 scope id of the address at `at`. */
function readScope(a: Uint8Array, at: number): number {
  const i = at + SCOPE_AT;
  return (
    ((a[i] as number) | ((a[i + 1] as number) << 8) | ((a[i + 2] as number) << 16) | ((a[i + 3] as number) << 24)) >>> 0
  );
}

function writeScope(a: Uint8Array, at: number, scope: number): void {
  const i = at + SCOPE_AT;
  a[i] = scope & 0xff;
  a[i + 1] = (scope >>> 8) & 0xff;
  a[i + 2] = (scope >>> 16) & 0xff;
  a[i + 3] = (scope >>> 24) & 0xff;
}
