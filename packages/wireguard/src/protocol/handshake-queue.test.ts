// The bounded handshake queue and the load gauge made of its depth (fake clock).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoint } from '../bind/bind.js';
import { HandshakeQueue } from './handshake-queue.js';
import { LoadGauge } from './load-gauge.js';

const from: Endpoint = { address: '10.0.0.1', port: 1 };

describe('HandshakeQueue', () => {
  it('holds at most its capacity, in order, copying each message; refuses what does not fit', () => {
    const q = new HandshakeQueue(3);
    const buffer = new Uint8Array(400);
    for (let i = 0; i < 4; i++) {
      buffer[i * 100] = i + 1;
      const pushed = q.push(buffer, i * 100, i === 1 ? 92 : 148, { address: `10.0.0.${i}`, port: i + 1 });
      assert.equal(pushed, i < 3, `message ${i}`);
    }
    buffer.fill(0); // copies were taken
    assert.equal(q.length, 3);
    const first = q.shift();
    assert.equal(q.messageAt(first)[0], 1);
    assert.equal(q.messageAt(first).length, 148);
    assert.deepEqual(q.sourceAt(first), { address: '10.0.0.0', port: 1 });
    const second = q.shift();
    assert.equal(q.messageAt(second).length, 92);
    assert.ok(q.push(Uint8Array.of(7, 0, 0, 0), 0, 4, from), 'room again');
    assert.ok(q.push(Uint8Array.of(8, 0, 0, 0), 0, 4, from));
    assert.ok(!q.push(Uint8Array.of(9, 0, 0, 0), 0, 4, from));
    assert.deepEqual(
      [q.shift(), q.shift(), q.shift()].map((slot) => q.messageAt(slot)[0]),
      [3, 7, 8],
    );
    assert.equal(q.shift(), -1);
    assert.ok(!q.push(new Uint8Array(149), 0, 149, from), 'longer than any handshake message');
  });
});

describe('LoadGauge', () => {
  it('is under load from 1/8 of the queue, and stays so for a second after it last was', () => {
    const g = new LoadGauge(1024);
    assert.equal(g.threshold, 128);
    assert.ok(!g.check(127, 0));
    assert.ok(g.check(128, 10));
    assert.ok(g.check(0, 1009), 'hysteresis: still under load');
    assert.ok(!g.check(0, 1010), 'a second after the queue was last deep');
    assert.ok(g.check(500, 2000));
    assert.ok(g.check(1, 2500));
    assert.ok(g.check(128, 2900), 'deep again: the second starts over');
    assert.ok(g.check(0, 3899));
    assert.ok(!g.check(0, 3900));
  });
});
