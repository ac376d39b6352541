import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TunConfigError, TunPacketError } from './errors.js';
import { MAX_PACKET_SIZE, PacketBatch } from './packet-batch.js';

describe('PacketBatch', () => {
  it('lays packets out in order with headroom and tailroom, 8-aligned, as views into one buffer', () => {
    const batch = new PacketBatch({ capacity: 4, headroom: 16, tailroom: 32, byteCapacity: 4096 });
    assert.ok(batch.push(Uint8Array.of(1, 2, 3)));
    assert.ok(batch.push(new Uint8Array(100).fill(9)));
    assert.equal(batch.length, 2);
    assert.equal(batch.offsets[0], 16);
    assert.equal(batch.offsets[1], 16 + 56); // align8(16 + 3 + 32) = 56, then headroom
    assert.deepEqual([...batch.packet(0)], [1, 2, 3]);
    assert.equal(batch.packet(1).buffer, batch.buffer.buffer);
    assert.equal(batch.bytesUsed, (16 + 56 + 100 + 32 + 7) & ~7);
  });

  it('refuses a packet once capacity or bytes run out, and holds a 64 KiB packet by default', () => {
    const small = new PacketBatch({ capacity: 2, byteCapacity: 256 });
    assert.ok(small.push(new Uint8Array(100)));
    assert.equal(small.push(new Uint8Array(200)), false); // bytes
    assert.ok(small.push(new Uint8Array(100)));
    assert.equal(small.push(new Uint8Array(1)), false); // capacity
    assert.equal(small.full, true);
    const big = new PacketBatch();
    assert.ok(big.push(new Uint8Array(MAX_PACKET_SIZE)));
    assert.equal(big.capacity, 100);
  });

  it('clear() makes it reusable; setLength grows a packet into its tailroom only', () => {
    const batch = new PacketBatch({ capacity: 3, tailroom: 16 });
    batch.push(new Uint8Array(10));
    batch.push(new Uint8Array(10));
    batch.setLength(0, 26);
    assert.throws(() => batch.setLength(0, 40), RangeError);
    batch.clear();
    assert.equal(batch.length, 0);
    assert.equal(batch.bytesUsed, 0);
    assert.throws(() => batch.packet(0), RangeError);
    const view = batch.reserve(5);
    assert.ok(view);
    view.set([5, 4, 3, 2, 1]);
    assert.deepEqual([...batch.packet(0)], [5, 4, 3, 2, 1]);
  });

  it('reserveAt gives the offset of the reserved bytes, with the layout reserve and push use, and -1 when full', () => {
    const batch = new PacketBatch({ capacity: 3, headroom: 16, tailroom: 8, byteCapacity: 136 });
    const first = batch.reserveAt(5);
    assert.equal(first, 16);
    batch.buffer.set([1, 2, 3, 4, 5], first);
    assert.deepEqual([...batch.packet(0)], [1, 2, 3, 4, 5]);
    assert.equal(batch.reserveAt(40), 16 + 32); // align8(16 + 5 + 8) = 32, then headroom
    assert.equal(batch.reserveAt(17), -1, 'bytes run out (16 left): nothing reserved');
    assert.equal(batch.length, 2);
    assert.equal(batch.reserveAt(-1), -1);
    assert.equal(batch.reserveAt(8), 96 + 16); // align8(48 + 40 + 8) = 96, then headroom
    assert.equal(batch.reserveAt(0), -1, 'capacity runs out, even for an empty packet');
    assert.equal(batch.length, 3);
    assert.deepEqual([...batch.lengths], [5, 40, 8]);
  });

  it('validates options and packets with typed errors naming the value', () => {
    assert.throws(() => new PacketBatch({ capacity: 0 }), TunConfigError);
    assert.throws(() => new PacketBatch({ capacity: 1.5 }), /got 1.5/);
    assert.throws(() => new PacketBatch({ headroom: -1 }), TunConfigError);
    assert.throws(() => new PacketBatch({ byteCapacity: 4, headroom: 8 }), TunConfigError);
    assert.throws(() => new PacketBatch().push(new Uint8Array(0)), TunPacketError);
    assert.throws(() => new PacketBatch().push(new Uint8Array(MAX_PACKET_SIZE + 1)), /65536/);
  });
});
