// UdpBind: the portable Bind over node:dgram. Received datagrams are copied into a bounded
// PacketQueue (dgram cannot pause a socket, so when the Device stops reading, the queue fills
// and further datagrams are dropped and counted, as a full kernel socket buffer would). Sends are
// copied into a slab of slots released as dgram's callbacks arrive (UDP sends complete in order),
// which bounds the datagrams in flight: that bound is the send backpressure.

import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { type PacketBatch, TunClosedError, TunConfigError, TunError, TunOsError } from '@tunkit/tun-core';
import { type Bind, BindPortInUseError, type BindStats, type Endpoint, emptyBindStats } from './bind.js';
import { InboundDatagrams } from './inbound-datagrams.js';
import { socketFd } from './socket-fd.js';

/** `protect` failed (or could not be called): the socket was closed; nothing was sent on it. */
export class BindProtectError extends TunError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_BIND_PROTECT', message, options);
  }
}

export interface UdpBindOptions {
  /** Local port; 0 picks an ephemeral one (default 0). */
  port?: number;
  /** Local address (default "::" dual-stack, or "0.0.0.0" when `ipv6: false`). */
  address?: string;
  /** Bind an IPv6 dual-stack socket (default true). */
  ipv6?: boolean;
  /** Datagrams held for the reader (default 4096). */
  receiveQueue?: number;
  /** Largest datagram received or sent, in bytes (default 2048: a 1500-byte link's datagrams and then some). */
  maxDatagram?: number;
  /** Datagrams in flight to the OS (default 1024). */
  sendQueue?: number;
  /** Socket buffer sizes in bytes (default 4 MiB each; the kernel caps them at its rmem/wmem max). */
  socketBuffer?: number;
  /** Called with the socket before use, to set socket options of its own (Android's VpnService.protect has `protect` below). */
  onSocket?: (socket: Socket) => void;
  /**
   * Called with the socket's file descriptor once it is bound and before any datagram is sent
   * (`open` resolves only after it settled). For Android's `VpnService.protect(fd)`, which keeps
   * the tunnel's own UDP traffic out of the tunnel. node:dgram has no public way to get the fd:
   * it is read from the socket's internal libuv handle (the `fd` of its UDPWrap), the only source
   * there is. On Windows that handle has no fd (-1; sockets are not fds there), and should a Node
   * version stop exposing it, no fd can be given: then `open` fails with BindProtectError rather
   * than run unprotected (an unprotected socket on Android would route the tunnel into itself).
   * If `protect` throws or rejects, the socket is closed and `open` rejects with BindProtectError
   * (its `cause` is the original error).
   */
  protect?: (fd: number) => void | Promise<void>;
}

export class UdpBind implements Bind {
  /** Which implementation this is (openBind's choice, for logs). */
  readonly backend = 'dgram';
  private socket: Socket;
  private readonly inbound: InboundDatagrams;
  private readonly sendSlab: Uint8Array;
  private readonly slotSize: number;

  /** The largest datagram received (larger ones are dropped, counted) and sent. */
  get maxDatagram(): number {
    return this.slotSize;
  }
  private readonly sendSlots: number;
  private sendHead = 0;
  private inFlight = 0;
  private sendWaiters: (() => void)[] = [];
  private isClosed = false;
  private readonly counters = emptyBindStats();
  private boundPort = 0;
  private readonly dualStack: boolean;

  /** Opens a UDP socket; resolves once it is bound. A taken port throws BindPortInUseError, other errors TunOsError. */
  static async open(options: UdpBindOptions = {}): Promise<UdpBind> {
    const bind = new UdpBind(options);
    try {
      await bind.listen(options);
    } catch (error) {
      await bind.close(); // the unbound socket would keep the event loop alive
      throw error;
    }
    if (options.protect) await bind.runProtect(options.protect);
    return bind;
  }

  /** Hands the bound socket's fd to `protect`; on any failure closes the socket and throws. */
  private async runProtect(protect: (fd: number) => void | Promise<void>): Promise<void> {
    const fd = socketFd(this.socket);
    let failure: BindProtectError | undefined;
    if (fd === undefined) {
      failure = new BindProtectError(
        `cannot protect the UDP socket on port ${this.boundPort}: node:dgram does not expose its file descriptor on ${process.platform} (protect needs an fd, as on Android/Linux)`,
      );
    } else {
      try {
        await protect(fd);
      } catch (error) {
        failure = new BindProtectError(
          `protect(${fd}) failed for the UDP socket on port ${this.boundPort}: ${(error as Error)?.message ?? String(error)}; the socket was closed (on Android, is the VpnService prepared and running?)`,
          { cause: error },
        );
      }
    }
    if (failure) {
      await this.close();
      throw failure;
    }
  }

  private constructor(options: UdpBindOptions) {
    this.slotSize = options.maxDatagram ?? 2048;
    if (!Number.isInteger(this.slotSize) || this.slotSize < 64 || this.slotSize > 65535) {
      throw new TunConfigError(
        'ERR_BIND_OPTION',
        `maxDatagram must be an integer in 64..65535, got ${options.maxDatagram}`,
      );
    }
    // By default each queue's slab stays at 8 MiB (4,096 and 1,024 slots of 2 KiB): a jumbo MTU
    // gets fewer slots, not a slab of hundreds of megabytes.
    const receiveQueue = options.receiveQueue ?? Math.min(4096, Math.floor((8 << 20) / this.slotSize));
    this.sendSlots = options.sendQueue ?? Math.min(1024, Math.max(64, Math.floor((2 << 20) / this.slotSize)));
    if (!Number.isInteger(this.sendSlots) || this.sendSlots < 1 || this.sendSlots > 65536) {
      throw new TunConfigError('ERR_BIND_OPTION', `sendQueue must be an integer in 1..65536, got ${options.sendQueue}`);
    }
    this.inbound = new InboundDatagrams(receiveQueue, this.slotSize, this.counters);
    this.sendSlab = new Uint8Array(this.sendSlots * this.slotSize);
    const ipv6 = options.ipv6 ?? true;
    this.dualStack = ipv6;
    this.socket = createSocket({ type: ipv6 ? 'udp6' : 'udp4', ipv6Only: false, reuseAddr: false });
  }

  get port(): number {
    return this.boundPort;
  }

  private listen(options: UdpBindOptions): Promise<void> {
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new TunConfigError('ERR_BIND_PORT', `listen port must be an integer in 0..65535, got ${port}`);
    }
    const address = options.address ?? ((options.ipv6 ?? true) ? '::' : '0.0.0.0');
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'EADDRINUSE'
            ? new BindPortInUseError(port, { cause: error })
            : new TunOsError(
                error.code ?? 'EIO',
                'bind',
                `cannot listen on UDP ${address} port ${port}: ${error.code ?? error.message}`,
                { cause: error },
              ),
        );
      };
      this.socket.once('error', onError);
      this.socket.bind({ port, address, exclusive: true }, () => {
        this.socket.off('error', onError);
        const size = options.socketBuffer ?? 4 * 1024 * 1024;
        try {
          this.socket.setRecvBufferSize(size);
          this.socket.setSendBufferSize(size);
        } catch {
          // The kernel caps buffer sizes at net.core.{r,w}mem_max; a smaller buffer still works.
        }
        this.boundPort = this.socket.address().port;
        this.socket.on('message', (message, rinfo) => this.onMessage(message, rinfo.address, rinfo.port));
        this.socket.on('error', () => {
          this.counters.txErrors++;
        });
        options.onSocket?.(this.socket);
        resolve();
      });
    });
  }

  private onMessage(message: Buffer, address: string, port: number): void {
    if (this.isClosed) return;
    if (port === 0) {
      this.counters.rxBadSource++; // a sender that cannot be answered: dropped, counted
      return;
    }
    // IPv4 peers on a dual-stack socket appear as ::ffff:a.b.c.d; keep the plain IPv4 form.
    const plain = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
    this.inbound.push(message, { address: plain, port });
  }

  recvMany(batch: PacketBatch, from: Endpoint[]): Promise<number> {
    return this.inbound.recvMany(batch, from);
  }

  sendMany(batch: PacketBatch, to: readonly Endpoint[] | Endpoint, start = 0): number {
    if (this.isClosed) throw new TunClosedError('UDP bind');
    let taken = 0;
    for (let i = start; i < batch.length; i++) {
      if (this.inFlight >= this.sendSlots) {
        this.counters.txRefused++;
        break;
      }
      const endpoint = Array.isArray(to) ? (to as readonly Endpoint[])[i] : (to as Endpoint);
      if (endpoint === undefined) throw new TunConfigError('ERR_BIND_ENDPOINT', `no endpoint for datagram ${i}`);
      const datagram = batch.packet(i);
      if (datagram.length > this.slotSize) {
        throw new TunConfigError(
          'ERR_BIND_DATAGRAM',
          `datagram ${i} has ${datagram.length} bytes; this bind sends at most ${this.slotSize}`,
        );
      }
      taken++;
      const address = this.sendAddress(endpoint);
      if (address === undefined) {
        this.counters.txBadEndpoint++; // refused alone, before it takes a slot
        continue;
      }
      const slot = this.sendHead;
      const at = slot * this.slotSize;
      this.sendSlab.set(datagram, at);
      this.sendHead = (slot + 1) % this.sendSlots;
      this.inFlight++;
      try {
        this.socket.send(this.sendSlab.subarray(at, at + datagram.length), endpoint.port, address, this.onSent);
      } catch {
        // dgram refused it synchronously (no callback will come): the slot goes back, so none
        // leaks and the slots in flight stay the ones just before sendHead.
        this.sendHead = slot;
        this.inFlight--;
        this.counters.txBadEndpoint++;
        continue;
      }
      this.counters.txDatagrams++;
      this.counters.txBytes += datagram.length;
    }
    return taken;
  }

  /**
   * The address to hand dgram for `endpoint`, or undefined when it cannot be sent to from this
   * socket: port 0 (dgram throws), a name rather than an IP literal (dgram would resolve it with a
   * DNS query per datagram), an IPv6 address from an IPv4-only socket. IPv4 goes v4-mapped on a
   * dual-stack socket.
   */
  private sendAddress(endpoint: Endpoint): string | undefined {
    const port = endpoint.port;
    if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
    let address = endpoint.address;
    let family = isIP(address);
    if (family === 6 && address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) {
      address = address.slice(7); // v4-mapped: reachable from either kind of socket
      family = 4;
    }
    if (family === 4) return this.dualStack ? `::ffff:${address}` : address;
    if (family === 6 && this.dualStack) return address;
    return undefined;
  }

  /** dgram's send callback: one slot is free again (sends complete in order). */
  private readonly onSent = (error: Error | null): void => {
    this.inFlight--;
    if (error) this.counters.txErrors++;
    if (this.sendWaiters.length > 0) {
      const waiters = this.sendWaiters;
      this.sendWaiters = [];
      for (const resolve of waiters) resolve();
    }
  };

  sendReady(): Promise<void> {
    if (this.isClosed || this.inFlight < this.sendSlots) return Promise.resolve();
    return new Promise((resolve) => this.sendWaiters.push(resolve));
  }

  stats(): BindStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.inbound.close();
    for (const resolve of this.sendWaiters) resolve();
    this.sendWaiters = [];
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
