// Fairness: a Device whose UDP socket never runs dry (a flood) still lets the event loop serve a
// timer and a UAPI request within a bound, while its receive and handshake loops keep working.
// The flood comes from FloodBind, a Bind that is always readable, as a socket under a flood is:
// without turn budgets the receive loop runs from one resolved recvMany to the next and nothing
// else runs until the flood stops.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MemoryTun, type PacketBatch } from '@tunkit/tun-core';
import { type Bind, type BindStats, type Endpoint, emptyBindStats } from '../bind/bind.js';
import { MacSender } from '../protocol/cookie.js';
import { generatePrivateKey, publicKeyFrom } from '../protocol/keys.js';
import { uapiRequest } from '../testing/uapi-client.js';
import { UapiServer } from '../uapi/uapi-server.js';
import { Device } from './device.js';

/** A Bind that hands out `total` flood datagrams as fast as it is asked, then waits until closed. */
class FloodBind implements Bind {
  readonly port = 51820;
  remaining: number;
  private closed = false;
  private wake: (() => void) | undefined;
  private next = 0;
  readonly sent: { datagram: Uint8Array; to: Endpoint }[] = [];

  constructor(
    private readonly pool: readonly Uint8Array[],
    total: number,
    private readonly from: Endpoint,
  ) {
    this.remaining = total;
  }

  async recvMany(batch: PacketBatch, from: Endpoint[]): Promise<number> {
    if (this.remaining <= 0 && !this.closed) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.closed) return 0;
    batch.clear();
    while (this.remaining > 0 && batch.length < batch.capacity) {
      if (!batch.push(this.pool[this.next++ % this.pool.length] as Uint8Array)) break;
      from[batch.length - 1] = this.from;
      this.remaining--;
    }
    return batch.length;
  }

  sendMany(batch: PacketBatch, to: readonly Endpoint[] | Endpoint, start = 0): number {
    for (let i = start; i < batch.length; i++) {
      this.sent.push({
        datagram: batch.packet(i).slice(),
        to: Array.isArray(to) ? (to[i] as Endpoint) : (to as Endpoint),
      });
    }
    return batch.length - start;
  }

  async sendReady(): Promise<void> {}

  stats(): BindStats {
    return emptyBindStats();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
  }
}

/** Generous for a shared 2-core machine; without budgets these wait for the whole flood. */
const BOUND_MS = 250;

describe('Device fairness under a flood', () => {
  it('serves a timer and a UAPI get within a bound while the UDP socket stays readable', async () => {
    const privateKey = generatePrivateKey();
    const attacker = new MacSender(publicKeyFrom(privateKey));
    // Valid-MAC1 initiations (each costs a MAC check, then the handshake queue) and random junk.
    const pool = Array.from({ length: 512 }, (_, i) => {
      const m = randomBytes(i % 4 === 0 ? 100 : 148);
      m.set([1, 0, 0, 0]);
      if (m.length === 148) attacker.seal(m, 0);
      return m;
    });
    const bind = new FloodBind(pool, 400_000, { address: '192.0.2.66', port: 4000 });
    const [tun] = MemoryTun.pair({ mtu: 1420 });
    const device = new Device({ tun, bind, privateKey, tickInterval: 20, log: () => {} });
    const dir = mkdtempSync(join(tmpdir(), 'tunkit-fair-'));
    const uapi = await UapiServer.listen({ name: 'tk-fair0', dir, handler: device.uapiHandler });
    try {
      device.start();
      const started = performance.now();
      const timer = new Promise<{ ms: number; remaining: number }>((resolve) =>
        setTimeout(() => resolve({ ms: performance.now() - started, remaining: bind.remaining }), 1),
      );
      const get = uapiRequest(uapi.path, 'get=1\n\n').then((text) => ({
        ms: performance.now() - started,
        remaining: bind.remaining,
        text,
      }));
      const [fired, answered] = await Promise.all([timer, get]);
      assert.ok(fired.remaining > 0, `the timer waited for the whole flood (${Math.round(fired.ms)} ms)`);
      assert.ok(fired.ms < BOUND_MS, `the timer fired after ${Math.round(fired.ms)} ms`);
      assert.ok(answered.remaining > 0, `the UAPI get waited for the whole flood (${Math.round(answered.ms)} ms)`);
      assert.ok(answered.ms < BOUND_MS, `the UAPI get was answered after ${Math.round(answered.ms)} ms`);
      assert.match(answered.text, /^private_key=[0-9a-f]{64}\nlisten_port=51820\n/);
      // The flood was processed meanwhile: junk dropped, initiations queued and answered with
      // cookies by the handshake turns (the queue filled, so the Engine went under load).
      const engine = device.engine;
      assert.ok(engine.drops.malformed > 0, 'junk dropped');
      assert.ok(engine.counters.cookiesSent > 0, 'cookie replies sent');
      assert.ok(
        bind.sent.some(({ datagram }) => datagram[0] === 3),
        'cookie replies went out',
      );
    } finally {
      await device.close();
      await uapi.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
