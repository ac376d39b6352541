// The UDP Bind contract: how a WireGuard Device moves datagrams, a batch at a time. The Device
// only sees this interface, so a native sendmmsg/recvmmsg/GSO implementation can replace the
// node:dgram one without touching the protocol (wireguard-go's conn.Bind idea).

import { type NativePacketPort, type PacketBatch, TunOsError } from '@tunkit/tun-core';

/** A UDP peer address. `address` is an IPv4 or IPv6 literal (no brackets). */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export interface BindStats {
  rxDatagrams: number;
  rxBytes: number;
  txDatagrams: number;
  txBytes: number;
  /** Datagrams received that the bind's bounded queue could not hold (counted, never silent). */
  rxDropped: number;
  /** Datagrams the OS refused to send (an error on send), counted. */
  txErrors: number;
  /** sendMany calls that could not take everything because the send queue was full. */
  txRefused: number;
  /** Datagrams received from a sender that cannot be answered (source port 0): dropped, counted. */
  rxBadSource: number;
  /**
   * Datagrams not sent because their endpoint cannot be sent to from this socket: port 0, an
   * IPv6 address from an IPv4-only socket, an address that does not parse. Each is refused alone;
   * the rest of the batch goes out.
   */
  txBadEndpoint: number;
}

/**
 * A UDP socket, batch-shaped. Threading: JS thread only; one consumer calls `recvMany`.
 * Close: idempotent; a pending `recvMany` resolves 0; `sendMany` then throws TunClosedError.
 */
export interface Bind {
  /** The local port (after open; an ephemeral port when 0 was asked for). */
  readonly port: number;

  /**
   * The largest datagram it sends and receives, in bytes (undefined: no limit of its own). A
   * Device refuses a Bind that cannot carry its MTU's datagrams (datagramSizeFor).
   */
  readonly maxDatagram?: number;

  /**
   * Waits for at least one datagram, then clears `batch` and moves as many as fit into it, with
   * the sender of datagram i in `from[i]`. Resolves the count; 0 once closed.
   */
  recvMany(batch: PacketBatch, from: Endpoint[]): Promise<number>;

  /**
   * Queues `batch.packet(i)` to `to[i]` (or to `to` for all) for i = start .. batch.length - 1,
   * as many as the send queue takes; returns how many were taken. The caller may reuse the
   * batch at once (datagrams are copied). When fewer than asked were taken, await `sendReady`.
   * A datagram whose endpoint cannot be sent to (port 0, another family than the socket's, an
   * address that does not parse) is taken and counted (txBadEndpoint), never thrown: one bad
   * endpoint costs its own datagram only. A missing endpoint (undefined) is a caller's bug: thrown.
   */
  sendMany(batch: PacketBatch, to: readonly Endpoint[] | Endpoint, start?: number): number;

  /** Resolves when `sendMany` can take at least one datagram (at once after close). */
  sendReady(): Promise<void>;

  stats(): BindStats;

  /**
   * Marks every datagram the socket sends with `mark` (Linux SO_MARK; 0 clears it), so policy
   * routing can match the tunnel's own UDP (wg-quick's FwMark). Throws TunOsError (EPERM without
   * CAP_NET_ADMIN). Absent where the socket cannot be marked (node:dgram has no SO_MARK).
   */
  setFwmark?(mark: number): void;

  /**
   * Optional, where the socket is native (LinuxUdpBind): its packet port (tun-core's
   * Tun.nativePort), for the native data plane. The first call moves receiving to a native
   * thread for good: what its processor does not take still arrives through `recvMany`.
   */
  nativePort?(): NativePacketPort;

  /**
   * Optional, with nativePort: the Endpoint for an address in the native 24-byte form (see
   * linux-udp-bind.ts), the same object recvMany gives for it.
   */
  endpointFromAddress?(address: Uint8Array): Endpoint;

  /** Optional, with nativePort: an endpoint in the native 24-byte form (throws TunConfigError when it does not parse). */
  addressOfEndpoint?(endpoint: Endpoint): Uint8Array;

  close(): Promise<void>;
}

/**
 * A bind's UDP port is taken by another socket: what every Bind's open throws for EADDRINUSE (a
 * TunOsError with errno EADDRINUSE and syscall bind), naming the port.
 */
export class BindPortInUseError extends TunOsError {
  readonly port: number;
  constructor(port: number, options?: ErrorOptions) {
    super(
      'EADDRINUSE',
      'bind',
      `UDP port ${port} is in use by another process: pick another ListenPort or stop it`,
      options,
    );
    this.port = port;
  }
}

export function emptyBindStats(): BindStats {
  return {
    rxDatagrams: 0,
    rxBytes: 0,
    txDatagrams: 0,
    txBytes: 0,
    rxDropped: 0,
    txErrors: 0,
    txRefused: 0,
    rxBadSource: 0,
    txBadEndpoint: 0,
  };
}

/** "host:port" with IPv6 in brackets, as WireGuard prints endpoints. */
export function formatEndpoint(endpoint: Endpoint): string {
  return endpoint.address.includes(':')
    ? `[${endpoint.address}]:${endpoint.port}`
    : `${endpoint.address}:${endpoint.port}`;
}

export function sameEndpoint(a: Endpoint | undefined, b: Endpoint | undefined): boolean {
  return a !== undefined && b !== undefined && a.port === b.port && a.address === b.address;
}
