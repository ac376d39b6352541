// The watcher asks the Tun for its stats (a netlink call on Linux) only with TSO on, once a second,
// and stops once the kernel's refusal has been logged.
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import type { TunStats } from '@tunkit/tun-core';
import type { Device } from '@tunkit/wireguard';
import { watchHandshakes } from './watcher.js';

const device = { engine: { peers: () => [], allowedIps: { prefixesOf: () => [] } } } as unknown as Device;

function run(tso: boolean | undefined, refusedAfterCalls: number, milliseconds: number) {
  let calls = 0;
  const tun = {
    offload: tso === undefined ? undefined : { tso },
    stats: () => {
      calls++;
      return { coalescingRefused: calls >= refusedAfterCalls } as unknown as TunStats;
    },
  };
  const warnings: unknown[] = [];
  const log = { info: () => {}, warn: (...args: unknown[]) => warnings.push(args) };
  mock.timers.enable({ apis: ['setInterval'] });
  try {
    const timer = watchHandshakes(device, tun, log as never);
    mock.timers.tick(milliseconds);
    clearInterval(timer);
  } finally {
    mock.timers.reset();
  }
  return { calls, warnings: warnings.length };
}

describe('watchHandshakes', () => {
  it('never asks for stats without TSO (no coalesced writes can be refused)', () => {
    assert.deepEqual(run(false, 1, 10_000), { calls: 0, warnings: 0 });
    assert.deepEqual(run(undefined, 1, 10_000), { calls: 0, warnings: 0 });
  });
  it('asks once a second with TSO, and no more once the refusal is logged', () => {
    assert.deepEqual(run(true, 1000, 10_000), { calls: 10, warnings: 0 });
    assert.deepEqual(run(true, 3, 10_000), { calls: 3, warnings: 1 });
  });
});
