// /healthz: 503 while starting, 200 with each peer's handshake age (by prefix, never by key) while
// up, 503 once the device ended, while the event loop is blocked past the bound, and while stopping.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryTun } from '@tunkit/tun-core';
import { waitUntil } from '@tunkit/tun-core/testing';
import { Device, formatKey, generatePrivateKey, MemoryNetwork, publicKeyFrom } from '@tunkit/wireguard';
import { HEALTH_MAX_LAG_MS, Health } from './health.js';

function device() {
  const [tun, host] = MemoryTun.pair({ mtu: 1420 });
  const keys = [generatePrivateKey(), generatePrivateKey(), generatePrivateKey()].map(publicKeyFrom);
  const d = new Device({ tun, bind: new MemoryNetwork().bind('10.0.0.1', 51820), privateKey: generatePrivateKey() });
  const handshook = d.addPeer({ publicKey: keys[0] as Uint8Array }, ['10.9.0.2/32', 'fd09::2/128']);
  d.addPeer({ publicKey: keys[1] as Uint8Array }, ['10.9.0.3/32']);
  d.addPeer({ publicKey: keys[2] as Uint8Array });
  handshook.lastHandshakeWallMs = 1_000_000;
  return { device: d, tun, host, keys };
}

describe('Health', () => {
  it('is 503 while the daemon starts', () => {
    const { status, report } = new Health('tk0').check();
    assert.equal(status, 503);
    assert.deepEqual(report, {
      status: 'unavailable',
      interface: 'tk0',
      device: 'starting',
      reason: 'starting',
      eventLoop: { maxLagMs: 0, boundMs: HEALTH_MAX_LAG_MS },
      peers: [],
    });
  });

  it('is 200 while up, with each peer’s handshake age labelled by prefix, never by key', async () => {
    const { device: d, keys } = device();
    try {
      const health = new Health('tk0', { now: () => 1_012_345, lagMs: () => 12.34 });
      health.up(d);
      assert.equal(health.isUp, true);
      const { status, report } = health.check();
      assert.equal(status, 200);
      assert.equal(report.status, 'ok');
      assert.equal(report.device, 'up');
      assert.equal(report.reason, undefined);
      assert.deepEqual(report.eventLoop, { maxLagMs: 12.3, boundMs: 1000 });
      assert.deepEqual(report.peers, [
        { peer: '10.9.0.2/32', lastHandshakeAgeSeconds: 12.3 },
        { peer: '10.9.0.3/32', lastHandshakeAgeSeconds: null },
        { peer: '#2', lastHandshakeAgeSeconds: null },
      ]);
      const text = JSON.stringify(report);
      for (const key of keys) assert.ok(!text.includes(formatKey(key)), 'no key');
    } finally {
      await d.close();
    }
  });

  it('is 503 when the event loop was blocked longer than the bound', async () => {
    const { device: d } = device();
    try {
      let lag = 999;
      const health = new Health('tk0', { lagMs: () => lag });
      health.up(d);
      assert.equal(health.check().status, 200);
      lag = 1500;
      const { status, report } = health.check();
      assert.equal(status, 503);
      assert.equal(report.device, 'up');
      assert.equal(report.reason, 'the event loop was blocked for 1500 ms (bound 1000 ms)');
    } finally {
      await d.close();
    }
  });

  it('is 503 once the device ended under the daemon, then while it stops', async () => {
    const { device: d, tun } = device();
    d.start();
    const health = new Health('tk0');
    health.up(d);
    await tun.close(); // closed under the Device: it ends, as when the interface is deleted
    await waitUntil('the device ended', () => d.endedBy !== undefined, 2000);
    const ended = health.check();
    assert.equal(ended.status, 503);
    assert.equal(ended.report.device, 'ended');
    assert.match(ended.report.reason ?? '', /^the TUN device ended by itself: /);
    health.stopping('the TUN device ended by itself: EBADFD');
    const stopping = health.check();
    assert.equal(stopping.status, 503);
    assert.equal(stopping.report.device, 'stopping');
    assert.equal(stopping.report.reason, 'the TUN device ended by itself: EBADFD');
    assert.equal(health.isUp, false);
  });

  it('measures the event loop: a blocked loop shows in maxLagMs', async () => {
    const health = new Health('tk0');
    const stop = health.watchEventLoop();
    try {
      await new Promise((r) => setTimeout(r, 60)); // the monitor's first samples
      const until = Date.now() + 120;
      while (Date.now() < until) {} // block the loop
      await new Promise((r) => setTimeout(r, 60));
      assert.ok(health.check().report.eventLoop.maxLagMs >= 80, JSON.stringify(health.check().report.eventLoop));
    } finally {
      stop();
    }
  });
});
