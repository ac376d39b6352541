// The watcher: handshakes completed and unanswered, logged by peer label at a bounded rate, with
// real Engines on a fake clock; a summary line once a minute of the peers that never completed
// one; removed peers forgotten (garbage-collected); and the Tun asked for its stats (a netlink call
// on Linux) only with TSO on, once a second, until the kernel's refusal has been logged.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { TunStats } from '@tunkit/tun-core';
import { type Device, Engine, generatePrivateKey, type Peer, publicKeyFrom } from '@tunkit/wireguard';
import { enginePair } from '@tunkit/wireguard/testing';
import { watchHandshakes } from './watcher.js';

const quietTun = { stats: () => ({}) as TunStats };

interface Line {
  level: 'info' | 'warn';
  fields: Record<string, unknown>;
  message: string;
}

function recorder() {
  const lines: Line[] = [];
  const record =
    (level: Line['level']) =>
    (fields: unknown, message?: string): void => {
      if (typeof fields === 'string') lines.push({ level, fields: {}, message: fields });
      else lines.push({ level, fields: fields as Record<string, unknown>, message: message ?? '' });
    };
  return { lines, log: { info: record('info'), warn: record('warn') } };
}

describe('watchHandshakes', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setInterval'] }));
  afterEach(() => mock.timers.reset());

  it('logs an unanswered handshake at once, then at most once a minute, and hands a failing peer on', () => {
    const pair = enginePair();
    let now = 0;
    const failing: Peer[] = [];
    const { lines, log } = recorder();
    const timer = watchHandshakes({ engine: pair.a }, quietTun, log as never, {
      now: () => now,
      onFailing: (peer) => failing.push(peer),
    });
    const step = (ms: number) => {
      pair.advance(ms);
      now += ms;
      pair.tick(pair.a); // the Engine retransmits once REKEY_TIMEOUT passed (the answers are lost)
      mock.timers.tick(250);
    };
    pair.send(pair.a, [1]); // the first initiation, lost
    mock.timers.tick(250);
    assert.equal(lines.length, 0);
    step(5_000);
    const unanswered = lines.filter((l) => /handshake not answered/.test(l.message));
    assert.equal(unanswered.length, 1);
    assert.deepEqual(unanswered[0]?.fields, {
      peer: '10.9.0.2/32',
      endpoint: '10.0.0.2:2',
      unanswered: 1,
      givenUp: false,
    });
    assert.equal(failing.length, 0);
    step(5_000);
    assert.equal(failing.length, 1, 'two unanswered attempts in a row: failing');
    for (let i = 0; i < 10; i++) step(5_000);
    assert.equal(lines.filter((l) => /handshake not answered/.test(l.message)).length, 1, 'one line a minute');
    step(5_000); // 60 s after the first line
    const again = lines.filter((l) => /handshake not answered/.test(l.message));
    assert.equal(again.length, 2);
    assert.match(again[1]?.message ?? '', /\(12 attempts since the last line\)/);
    assert.equal(failing.length, 12);
    clearInterval(timer);
  });

  it('logs a completed handshake and starts counting failures afresh', () => {
    const pair = enginePair();
    const { lines, log } = recorder();
    const timer = watchHandshakes({ engine: pair.a }, quietTun, log as never, { now: () => 0 });
    pair.handshake();
    mock.timers.tick(250);
    assert.deepEqual(
      lines.map((l) => [l.level, l.message, l.fields.peer]),
      [['info', 'handshake completed', '10.9.0.2/32']],
    );
    clearInterval(timer);
  });

  it('bounds the lines of one tick and sums up the rest', () => {
    const engine = new Engine({ privateKey: generatePrivateKey(), mtu: 1420, now: () => 0 });
    const peers = Array.from({ length: 50 }, (_, i) =>
      engine.addPeer({ publicKey: publicKeyFrom(generatePrivateKey()) }, [`10.1.${i}.0/24`]),
    );
    const { lines, log } = recorder();
    const timer = watchHandshakes({ engine }, quietTun, log as never, { now: () => 0 });
    mock.timers.tick(250);
    for (const peer of peers) peer.lastHandshakeWallMs = 1_700_000_000_000; // all complete at once
    mock.timers.tick(250);
    const completed = lines.filter((l) => l.message === 'handshake completed');
    assert.equal(completed.length, 8);
    assert.deepEqual(
      lines.filter((l) => /more peers/.test(l.message)).map((l) => l.fields),
      [{ peers: 42 }],
    );
    clearInterval(timer);
  });

  it('says once a minute how many configured peers never completed a handshake', () => {
    const engine = new Engine({ privateKey: generatePrivateKey(), mtu: 1420, now: () => 0 });
    for (let i = 0; i < 7; i++) engine.addPeer({ publicKey: publicKeyFrom(generatePrivateKey()) }, [`10.2.${i}.1/32`]);
    let now = 0;
    const { lines, log } = recorder();
    const timer = watchHandshakes({ engine }, quietTun, log as never, { now: () => now });
    const never = () => lines.filter((l) => /never completed a handshake/.test(l.message));
    for (let i = 0; i < 239; i++) {
      now += 250;
      mock.timers.tick(250);
    }
    assert.equal(never().length, 0);
    now += 250;
    mock.timers.tick(250);
    assert.deepEqual(never()[0]?.fields, {
      peers: 7,
      examples: ['10.2.0.1/32', '10.2.1.1/32', '10.2.2.1/32', '10.2.3.1/32', '10.2.4.1/32'],
    });
    assert.equal(never()[0]?.message, '7 configured peers have never completed a handshake');
    for (const peer of engine.peers()) peer.lastHandshakeWallMs = 1;
    for (let i = 0; i < 240; i++) {
      now += 250;
      mock.timers.tick(250);
    }
    assert.equal(never().length, 1, 'silent once every peer completed one');
    clearInterval(timer);
  });

  it('forgets a removed peer (nothing keeps it alive)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const engine = new Engine({ privateKey: generatePrivateKey(), mtu: 1420, now: () => 0 });
    const { log } = recorder();
    const timer = watchHandshakes({ engine }, quietTun, log as never, { now: () => 0 });
    const refs: WeakRef<Peer>[] = [];
    // In a function of its own: no local of the test keeps the last peer alive.
    const addSeeAndRemove = (i: number) => {
      const peer = engine.addPeer({ publicKey: publicKeyFrom(generatePrivateKey()) }, [`10.3.${i}.1/32`]);
      peer.lastHandshakeWallMs = 1_700_000_000_000 + i; // it completed a handshake
      mock.timers.tick(250); // the watcher sees it
      engine.removePeer(peer);
      refs.push(new WeakRef(peer));
    };
    for (let i = 0; i < 20; i++) addSeeAndRemove(i);
    mock.timers.tick(250); // the watcher notices they are gone
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.equal(refs.filter((ref) => ref.deref() !== undefined).length, 0);
    clearInterval(timer);
  });
});

describe('watchHandshakes and the Tun', () => {
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

  it('never asks for stats without TSO (no coalesced writes can be refused)', () => {
    assert.deepEqual(run(false, 1, 10_000), { calls: 0, warnings: 0 });
    assert.deepEqual(run(undefined, 1, 10_000), { calls: 0, warnings: 0 });
  });
  it('asks once a second with TSO, and no more once the refusal is logged', () => {
    assert.deepEqual(run(true, 1000, 10_000), { calls: 10, warnings: 0 });
    assert.deepEqual(run(true, 3, 10_000), { calls: 3, warnings: 1 });
  });
});
