import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TunClosedError, TunConfigError } from './errors.js';
import { PacketBatch } from './packet-batch.js';
import { PacketQueue } from './packet-queue.js';

describe('PacketQueue', () => {
  it('keeps FIFO order and tags across slot wrap-around, copying packets in', () => {
    const q = new PacketQueue<string>({ capacity: 3, slotSize: 16 });
    const batch = new PacketBatch({ capacity: 2, byteCapacity: 256 });
    const tags: (string | undefined)[] = [];
    let next = 0;
    const seen: number[] = [];
    for (let round = 0; round < 10; round++) {
      while (q.push(Uint8Array.of(next, next, next), `t${next}`)) next++;
      batch.clear();
      const n = q.drainInto(batch, tags);
      for (let i = 0; i < n; i++) {
        const p = batch.packet(i);
        assert.deepEqual([...p], [p[0], p[0], p[0]]);
        assert.equal(tags[i], `t${p[0]}`);
        seen.push(p[0] as number);
      }
    }
    assert.deepEqual(
      seen,
      Array.from({ length: seen.length }, (_, i) => i),
    );
    assert.ok(q.refused >= 10);
  });

  it('leaves a packet that does not fit the batch queued', () => {
    const q = new PacketQueue({ capacity: 4, slotSize: 100 });
    q.push(new Uint8Array(60));
    q.push(new Uint8Array(60));
    const batch = new PacketBatch({ capacity: 4, byteCapacity: 64 });
    assert.equal(q.drainInto(batch), 1);
    assert.equal(q.length, 1);
  });

  it('validates, refuses oversize packets, and closes', async () => {
    assert.throws(() => new PacketQueue({ capacity: 0, slotSize: 10 }), TunConfigError);
    assert.throws(() => new PacketQueue({ capacity: 1, slotSize: 70000 }), /got 70000/);
    const q = new PacketQueue({ capacity: 2, slotSize: 8 });
    assert.throws(() => q.push(new Uint8Array(9)), RangeError);
    const waiting = q.readable();
    q.push(new Uint8Array(1));
    assert.equal(await waiting, true);
    assert.equal(q.closeAndDiscard(), 1);
    assert.equal(await q.readable(), false);
    assert.throws(() => q.push(new Uint8Array(1)), TunClosedError);
  });
});
