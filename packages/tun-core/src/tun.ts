// The Tun contract. This file is the documentation: every device (MemoryTun, Linux, Windows,
// macOS, Android) implements exactly this, and tun-core's contract suite checks it.
// Shape from the reference design (poll_recv_many / poll_send_ready / send), in Node idiom:
// one promise per batch, Writable-like backpressure, and nothing queued without bound.

import type { TunOsError } from './errors.js';
import type { PacketBatch } from './packet-batch.js';

/** Counters of one device queue (a Linux multi-queue fd, the WinTun ring, the single utun fd...). */
export interface TunQueueStats {
  /** Packets and bytes read from the device and delivered to `recvMany`. */
  rxPackets: number;
  rxBytes: number;
  /** Packets and bytes written to the device. */
  txPackets: number;
  txBytes: number;
  /** Packets read from the device that were dropped before JS saw them (counted, never silent). */
  rxDropped: number;
  /** Packets accepted by `send` that could not be written to the device (counted, never silent). */
  txDropped: number;
  /** Times the reader stopped because the inbound channel was full (the device then holds or drops). */
  rxStalls: number;
}

export interface TunStats extends TunQueueStats {
  /** Calls to `send`/`sendMany` refused because the outbound queue was full (the caller retries). */
  txRefused: number;
  /** Per-queue counters; the totals above are their sums plus device-wide counters. */
  queues: TunQueueStats[];
}

/**
 * A TUN device: IP packets in, IP packets out.
 *
 * Threading: every method is called on the JS thread. One consumer calls `recvMany` (at most
 * one call pending at a time); any number of producers call `send`.
 *
 * Close: `close()` is idempotent. After it, a pending `recvMany` resolves 0, later `recvMany`
 * calls resolve 0, `send`/`sendMany` throw `TunClosedError`, `sendReady` resolves at once,
 * and packets still queued in either direction are discarded (counted in `rxDropped` /
 * `txDropped`).
 *
 * Ends by itself: a device can end without `close()`: its interface deleted (`ip link del`), its
 * WinTun adapter removed, its utun socket disconnected. Every platform turns its own way of saying
 * so (EBADFD on a Linux or Android TUN fd, ERROR_HANDLE_EOF from WinTun, a dead or disconnected
 * fd) into this one rule, and nothing above the Tun checks for a platform's signal. The device
 * closes itself, so from then on it behaves exactly as after `close()` (a pending `recvMany`
 * resolves 0, `send`/`sendMany` throw `TunClosedError`, a pending `sendReady` resolves, `closed` is
 * true, its fds and threads are released), and `endedBy` holds the OS error that ended it. A
 * consumer therefore learns of it as `recvMany` resolving 0 while it did not call `close()`
 * itself. The device notices the end while a `recvMany` is pending (devices that read on threads
 * of their own: at once), and at the latest on the next `recvMany`. A later `close()` is a no-op
 * and keeps `endedBy`. An end the OS reports only outside the device (Android's
 * VpnService.onRevoke, which leaves the fd open and the interface down) is the host's to pass on
 * by calling `close()`.
 */
/** A device's packet port for native processors (see Tun.nativePort): opaque to JS. */
export type NativePacketPort = { readonly __tunkitPacketPort: unique symbol };

export interface Tun extends AsyncIterable<PacketBatch> {
  /** The interface name (e.g. "tunkit0", "utun4", "mem0"). */
  readonly name: string;
  /** Largest IP packet `send` accepts and `recvMany` delivers, in bytes. */
  readonly mtu: number;
  /** True once the device is closed: `close()` was called, or it ended by itself (see `endedBy`). */
  readonly closed: boolean;
  /**
   * Why the device ended by itself: the OS error that ended it (`errno` and `syscall` say what the
   * OS reported, e.g. EBADFD from `read`, ERROR_HANDLE_EOF from WintunReceivePacket, EOF from a
   * disconnected utun socket). Undefined while the device is open and after a plain `close()`.
   */
  readonly endedBy: TunOsError | undefined;

  /**
   * Waits until at least one packet is available, then clears `batch` and moves into it as many
   * packets as fit (at most `batch.capacity`, and a packet that does not fit the remaining bytes
   * waits for the next call). Resolves with the number of packets, ≥ 1; resolves 0 once the
   * device is closed or ended by itself (`endedBy` then says why). One promise per batch, never
   * one per packet.
   *
   * Bad use: a second call while one is pending rejects with `TunError` code
   * `ERR_TUN_RECV_PENDING`; a batch whose `spaceForNext` after `clear()` is below `mtu` rejects
   * with `TunConfigError` code `ERR_TUN_BATCH_TOO_SMALL`.
   */
  recvMany(batch: PacketBatch): Promise<number>;

  /**
   * Queues one IP packet for the device. Returns true when taken (the bytes were copied; the
   * caller may reuse its buffer), false when the outbound queue is full: the packet was NOT
   * taken, and the caller awaits `sendReady()` and sends it again.
   *
   * Bad input: an empty packet, one longer than `mtu`, or one whose first nibble is not 4 or 6
   * throws `TunPacketError` (codes `ERR_TUN_PACKET_SIZE`, `ERR_TUN_PACKET_VERSION`); nothing is
   * truncated. After close or the end: throws `TunClosedError`. Between the device's end and the
   * moment it notices it, `send` may still take packets; they are dropped and counted
   * (`txDropped`), as with a cable pulled.
   */
  send(packet: Uint8Array): boolean;

  /**
   * Queues the packets `batch.packet(start) .. batch.packet(batch.length - 1)` in order, as
   * many as the queue takes; returns how many were taken (0 when full). Packets are validated
   * as in `send`, and the first bad one throws before anything after it is taken.
   */
  sendMany(batch: PacketBatch, start?: number): number;

  /**
   * Resolves when `send` can take at least one more packet: at once when it can now, else once
   * the device has drained the queue below its bound. Resolves at once after close, and a pending
   * one resolves at close or at the end (`send` then throws). This is how backpressure reaches the
   * producer.
   */
  sendReady(): Promise<void>;

  /** Counters since open. Cheap enough to call once a second. */
  stats(): TunStats;

  /**
   * Optional, where a device's I/O runs on native threads (Linux): its packet port
   * (native/include/tunkit/packet_port.hh), an opaque value for a native packet processor in
   * another addon (wireguard's data plane), which then takes packets straight from the device's
   * threads and writes to it from its own. What the processor does not take still arrives through
   * `recvMany`; `send` works as before. Throws TunClosedError after close.
   */
  nativePort?(): NativePacketPort;

  /**
   * Closes the device; see "Close" above. Resolves once the device's threads and fds are released.
   * After the device ended by itself it does nothing more (and leaves `endedBy` set).
   */
  close(): Promise<void>;

  /**
   * Iterates batches until close or the end. Each iteration yields the same internal `PacketBatch`,
   * refilled: read it before asking for the next one.
   */
  [Symbol.asyncIterator](): AsyncIterator<PacketBatch>;
}

/** Options every platform's `openTun` accepts (platforms add their own). */
export interface TunOptions {
  /** Interface name; the platform picks one when absent. */
  name?: string;
  /** MTU in bytes, 68..65535 (default 1420, WireGuard's). */
  mtu?: number;
}

/** What every platform package exports. */
export interface TunPlatform {
  openTun(options?: TunOptions & Record<string, unknown>): Promise<Tun>;
}

/** Default MTU: WireGuard's (1500 minus the 80 bytes of IPv6 + UDP + WireGuard overhead). */
export const DEFAULT_MTU = 1420;
export const MIN_MTU = 68;
export const MAX_MTU = 65535;
