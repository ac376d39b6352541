import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TunConfigError } from './errors.js';
import { MemoryTun } from './memory-tun.js';
import { PacketBatch } from './packet-batch.js';
import { tunContractSuite } from './testing/contract-suite.js';
import { memoryTunHarness } from './testing/memory-harness.js';
import { sequencePacket } from './testing/packets.js';

tunContractSuite('MemoryTun', async () => memoryTunHarness());
tunContractSuite('MemoryTun (capacity 1, mtu 1280)', async () => memoryTunHarness({ capacity: 1, mtu: 1280 }));

describe('MemoryTun', () => {
  it('copies on send: the sender may reuse its buffer at once', async () => {
    const [a, b] = MemoryTun.pair();
    const packet = sequencePacket(1, 100);
    const copy = packet.slice();
    assert.ok(a.send(packet));
    packet.fill(0);
    const batch = new PacketBatch();
    assert.equal(await b.recvMany(batch), 1);
    assert.deepEqual(batch.packet(0), copy);
    await a.close();
    await b.close();
  });

  it('counts packets sent to a closed peer as dropped, and discards its own queue at close', async () => {
    const [a, b] = MemoryTun.pair();
    a.send(sequencePacket(1));
    a.send(sequencePacket(2));
    await b.close();
    assert.equal(b.stats().rxDropped, 2);
    assert.ok(a.send(sequencePacket(3)));
    assert.equal(a.stats().txDropped, 1);
    await a.close();
  });

  it('validates its options', () => {
    assert.throws(() => MemoryTun.pair({ mtu: 67 }), TunConfigError);
    assert.throws(() => MemoryTun.pair({ mtu: 70000 }), /68..65535, got 70000/);
    assert.throws(() => MemoryTun.pair({ capacity: 0 }), /capacity/);
  });
});
