#!/usr/bin/env node
// tunkit example: two connected in-memory TUN devices. One side sends 100,000 UDP packets as
// fast as backpressure allows; the other echoes each back with source and destination swapped;
// the first side checks every echo arrived, in order. Prints what happened and the counters.
// Run: npm run example   (from the repository root)
import { buildUdpPacket, ipTotalLength, MemoryTun, PacketBatch } from '@tunkit/tun-core';

/** A 200-byte IPv4 UDP packet 10.0.0.1:5000 → 10.0.0.2:5001 whose payload starts with `seq`. */
function sequencePacket(seq) {
  const payload = new Uint8Array(172);
  new DataView(payload.buffer).setUint32(0, seq);
  const [source, destination] = [Uint8Array.of(10, 0, 0, 1), Uint8Array.of(10, 0, 0, 2)];
  return buildUdpPacket({ source, destination, sourcePort: 5000, destinationPort: 5001, payload });
}

/** The sequence number in an echoed packet (IPv4 header 20 + UDP header 8). */
function readSequence(packet) {
  if (ipTotalLength(packet) !== 200) throw new Error('not one of our packets');
  return new DataView(packet.buffer, packet.byteOffset + 28, 4).getUint32(0);
}

const TOTAL = 100_000;
const [client, server] = MemoryTun.pair({ mtu: 1420, capacity: 256, names: ['client0', 'server0'] });
const started = process.hrtime.bigint();
let refusals = 0;

// The server: receive batches, swap addresses in place, send the batch back with backpressure.
async function echo() {
  const batch = new PacketBatch({ capacity: 100 });
  while ((await server.recvMany(batch)) > 0) {
    for (const packet of batch) {
      const source = packet.slice(12, 16);
      packet.copyWithin(12, 16, 20);
      packet.set(source, 16);
    }
    let sent = 0;
    while (sent < batch.length) {
      sent += server.sendMany(batch, sent);
      if (sent < batch.length) await server.sendReady();
    }
  }
}

// The client: send TOTAL packets, waiting on sendReady() whenever send() refuses.
async function produce() {
  for (let seq = 0; seq < TOTAL; seq++) {
    const packet = sequencePacket(seq);
    while (!client.send(packet)) {
      refusals++;
      await client.sendReady();
    }
  }
}

// The client's receiver: every echo must come back, in order.
async function consume() {
  const batch = new PacketBatch({ capacity: 100 });
  let expected = 0;
  let batches = 0;
  while (expected < TOTAL) {
    const n = await client.recvMany(batch);
    if (n === 0) throw new Error('client closed early');
    batches++;
    for (const packet of batch) {
      const seq = readSequence(packet);
      if (seq !== expected) throw new Error(`expected echo ${expected}, got ${seq}`);
      expected++;
    }
  }
  return batches;
}

const echoing = echo();
const [, batches] = await Promise.all([produce(), consume()]);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const clientStats = client.stats();
await client.close();
await server.close();
await echoing;

console.log(`tunkit example: ${client.name} ⇄ ${server.name} (MemoryTun pair, mtu ${client.mtu}, queue bound 256)`);
console.log(`  sent ${TOTAL} packets and got ${TOTAL} echoes back in order, in ${batches} receive batches`);
console.log(`  send() refused ${refusals} times (backpressure); the producer waited on sendReady() each time`);
console.log(
  `  client counters: tx ${clientStats.txPackets} packets / ${clientStats.txBytes} bytes, rx ${clientStats.rxPackets} packets, drops ${clientStats.txDropped + clientStats.rxDropped}`,
);
console.log(`  ${(TOTAL / seconds / 1000).toFixed(0)}k round trips/s in ${seconds.toFixed(2)} s`);
