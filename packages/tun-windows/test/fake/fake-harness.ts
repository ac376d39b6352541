// The contract-suite harness over the fake WinTun: `inject` is Windows handing a packet to the
// adapter (the fake's receive ring), `collect` reads what the adapter sent (the fake's send ring),
// drained every millisecond the way the Windows stack drains the real one.

import { readSequence, sequencePacket, type TunHarness, takeCollected } from '@tunkit/tun-core/testing';
import { fakeWintun } from '../../src/native.js';
import { openWindowsTun } from '../../src/open.js';
import type { WindowsTunOptions } from '../../src/options.js';
import type { WindowsTun } from '../../src/windows-tun.js';

let adapters = 0;

/** A fresh adapter name per test, so fake state never leaks between tests. */
export function uniqueName(prefix = 'tk-test'): string {
  return `${prefix}-${process.pid}-${++adapters}`;
}

export interface FakeOtherSide {
  name: string;
  received: number[];
  /** Stop / restart draining the send ring (the Windows stack stalls). */
  draining: boolean;
  stop(): void;
}

/** Drains the fake send ring of `name` every millisecond into `received` (sequence numbers). */
export function drainSent(name: string): FakeOtherSide {
  const fake = fakeWintun();
  const side: FakeOtherSide = {
    name,
    received: [],
    draining: true,
    stop: () => clearInterval(timer),
  };
  const timer = setInterval(() => {
    if (!side.draining) return;
    for (const packet of fake.takeSent(name, 100_000)) {
      const seq = readSequence(packet);
      if (seq !== undefined) side.received.push(seq);
    }
  }, 1);
  return side;
}

/** Injects a packet, waiting while the fake receive ring is full (Windows would drop; tests must not). */
export async function injectPacket(name: string, packet: Uint8Array): Promise<void> {
  const fake = fakeWintun();
  const deadline = Date.now() + 10_000;
  while (!fake.inject(name, packet)) {
    if (Date.now() > deadline) throw new Error(`the fake receive ring of ${name} stayed full for 10 s`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

export async function openFake(options: WindowsTunOptions = {}): Promise<WindowsTun> {
  return openWindowsTun({ name: uniqueName(), ...options });
}

/**
 * The other side can pause (the Windows stack stops reading the send ring). The retry budget is
 * raised to 1 s so the send thread keeps a paused ring's packets instead of dropping them: the
 * contract's pauses are far shorter.
 */
export async function fakeHarness(options: WindowsTunOptions = {}): Promise<TunHarness> {
  const tun = await openFake({ sendRetryMs: 1000, ...options });
  const side = drainSent(tun.name);
  return {
    tun,
    inject: (seq, size) => injectPacket(tun.name, sequencePacket(seq, size, [10, 0, 0, 2], [10, 0, 0, 1])),
    outbound: (seq, size) => sequencePacket(seq, size),
    collect: (count, timeoutMs) => takeCollected(side.received, count, timeoutMs),
    pauseOtherSide() {
      side.draining = false;
    },
    resumeOtherSide() {
      side.draining = true;
    },
    endByItself() {
      fakeWintun().terminate(tun.name); // the adapter removed: WinTun answers ERROR_HANDLE_EOF
      return 'ERROR_HANDLE_EOF';
    },
    async dispose() {
      side.stop();
    },
  };
}
