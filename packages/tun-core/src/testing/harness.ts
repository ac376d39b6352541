// TunHarness: what the contract suite needs from a device under test — the device, and a way
// to act as "the other side" of it (the peer MemoryTun, the kernel's network stack, a fake ring).

import type { Tun } from '../tun.js';

export interface TunHarness {
  /** The device under test, open. */
  tun: Tun;
  /**
   * Makes `tun` receive an IPv4 UDP packet of about `size` bytes carrying `seq` (see
   * `sequencePayload`), from the other side. Order of inject calls is the order of arrival.
   */
  inject(seq: number, size: number): Promise<void> | void;
  /** A packet `tun.send` accepts and that the other side hands to `collect`, carrying `seq`. */
  outbound(seq: number, size: number): Uint8Array;
  /** Resolves with the sequence numbers of the next `count` packets `tun` sent, in arrival order. */
  collect(count: number, timeoutMs?: number): Promise<number[]>;
  /**
   * Stop and resume the other side's reading, where the other side can stop (a peer MemoryTun
   * can; a kernel stack cannot). When absent, the backpressure test checks the weaker property
   * that a fast producer using sendReady loses nothing.
   */
  pauseOtherSide?(): void;
  resumeOtherSide?(): void;
  /**
   * Makes the device end by itself the way its OS does (the interface deleted, the adapter
   * removed, the fd disconnected), never through `tun.close()`; returns the `errno` the device must
   * then report in `endedBy` (EBADFD, ERROR_HANDLE_EOF, EOF...).
   */
  endByItself(): Promise<string> | string;
  /** Releases the harness (the device may already be closed). */
  dispose(): Promise<void>;
}

export type MakeHarness = () => Promise<TunHarness>;

/**
 * For harnesses: waits until `received` holds `count` entries (appended by the other side's
 * reader), then removes and returns them; rejects after `timeoutMs`.
 */
export async function takeCollected(received: number[], count: number, timeoutMs = 5_000): Promise<number[]> {
  await waitUntil(
    () => `${count} packets (collected ${received.length})`,
    () => received.length >= count,
    timeoutMs,
  );
  return received.splice(0, count);
}

/**
 * Polls `check` every `intervalMs` until it is true; rejects naming `what` (a string, or a function
 * giving one at timeout) after `timeoutMs`.
 */
export async function waitUntil(
  what: string | (() => string),
  check: () => boolean,
  timeoutMs = 5_000,
  intervalMs = 1,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
