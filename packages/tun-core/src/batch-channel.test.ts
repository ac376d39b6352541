import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BatchChannel } from './batch-channel.js';
import { TunClosedError, TunConfigError } from './errors.js';

describe('BatchChannel', () => {
  it('is FIFO and bounded: send refuses (and counts) when full', () => {
    const ch = new BatchChannel<number>(3);
    assert.ok(ch.send(1));
    assert.ok(ch.send(2));
    assert.ok(ch.send(3));
    assert.equal(ch.send(4), false);
    assert.equal(ch.length, 3);
    const out: number[] = [];
    assert.equal(ch.tryRecvMany(out, 10), 3);
    assert.deepEqual(out, [1, 2, 3]);
    assert.deepEqual(ch.stats(), { accepted: 3, refused: 1, wakeups: 0 });
  });

  it('wakes a waiting consumer once per empty→non-empty transition, not once per item', async () => {
    const ch = new BatchChannel<number>(100);
    const out: number[] = [];
    const pending = ch.recvMany(out, 100);
    for (let i = 0; i < 50; i++) ch.send(i);
    assert.equal(await pending, 50);
    assert.equal(ch.stats().wakeups, 1);
    // Items queued while nobody waits cause no wake-up at all.
    for (let i = 0; i < 10; i++) ch.send(i);
    assert.equal(await ch.recvMany([], 5), 5);
    assert.equal(await ch.recvMany([], 100), 5);
    assert.equal(ch.stats().wakeups, 1);
  });

  it('sendReady resolves when space frees; close wakes every waiter and keeps accepted items', async () => {
    const ch = new BatchChannel<string>(1);
    ch.send('a');
    let ready = false;
    const readyPromise = ch.sendReady().then(() => {
      ready = true;
    });
    await Promise.resolve();
    assert.equal(ready, false);
    assert.equal(ch.tryRecv(), 'a');
    await readyPromise;
    ch.send('b');
    const waiters = [ch.sendReady(), ch.sendReady()];
    ch.close();
    await Promise.all(waiters);
    assert.throws(() => ch.send('c'), TunClosedError);
    assert.equal(await ch.recvMany([], 10), 1); // 'b' is not lost
    assert.equal(await ch.recvMany([], 10), 0);
  });

  it('close wakes a pending receive with 0', async () => {
    const ch = new BatchChannel<number>(4);
    const pending = ch.recvMany([], 4);
    ch.close();
    assert.equal(await pending, 0);
  });

  it('refuses a second pending receive and bad arguments', async () => {
    const ch = new BatchChannel<number>(4);
    const first = ch.recvMany([], 4);
    await assert.rejects(ch.recvMany([], 4), /already pending/);
    await assert.rejects(ch.recvMany([], 0), TunConfigError);
    assert.throws(() => new BatchChannel(0), /got 0/);
    ch.send(1);
    assert.equal(await first, 1);
  });

  it('property: any interleaving of sends, receives and close keeps FIFO and loses nothing accepted', async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('send' as const), count: fc.integer({ min: 1, max: 20 }) }),
      fc.record({ kind: fc.constant('recv' as const), max: fc.integer({ min: 1, max: 20 }) }),
      fc.record({ kind: fc.constant('tick' as const) }),
      fc.record({ kind: fc.constant('close' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 16 }), fc.array(op, { maxLength: 60 }), async (capacity, ops) => {
        const ch = new BatchChannel<number>(capacity);
        const accepted: number[] = [];
        const received: number[] = [];
        let next = 0;
        let pending: Promise<number> | undefined;
        const out: number[] = [];
        for (const o of ops) {
          if (o.kind === 'send') {
            for (let i = 0; i < o.count; i++) {
              if (ch.closed) {
                assert.throws(() => ch.send(next), TunClosedError);
                break;
              }
              const before = ch.length;
              if (ch.send(next)) accepted.push(next);
              else assert.equal(before, capacity, 'refused while not full');
              assert.ok(ch.length <= capacity, 'bound exceeded');
              next++;
            }
          } else if (o.kind === 'recv' && pending === undefined) {
            pending = ch.recvMany(out, o.max);
          } else if (o.kind === 'close') {
            ch.close();
          }
          // Let a woken receive complete.
          await Promise.resolve();
          await Promise.resolve();
          if (pending !== undefined) {
            const settled = await Promise.race([pending, Promise.resolve(-1)]);
            if (settled !== -1) {
              pending = undefined;
              received.push(...out.splice(0));
            }
          }
        }
        ch.close();
        if (pending !== undefined) {
          await pending;
          received.push(...out.splice(0));
        }
        while ((await ch.recvMany(out, 100)) > 0) received.push(...out.splice(0));
        assert.deepEqual(received, accepted);
      }),
      { numRuns: 300 },
    );
  });
});
