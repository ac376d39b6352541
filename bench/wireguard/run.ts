// bench/wireguard: handshakes/s; sealing (in place, and appended to another batch, side by side)
// and opening (into another batch, and in place as the Device does, side by side) with each ChaCha20-Poly1305 backend (native batch addon, node:crypto), in packets/s and Gbit/s, for 64, 512 and 1400-byte packets in batches of 1 and 100,
// through the sans-IO Engine (no sockets, no TUN), median of N runs. Run: node --import tsx bench/wireguard/run.ts [--runs 5]

import { parseArgs } from 'node:util';
import { PacketBatch } from '@tunkit/tun-core';
import { sequencePacket } from '@tunkit/tun-core/testing';
import {
  type AeadBackend,
  consumeInitiation,
  consumeResponse,
  createInitiation,
  createResponse,
  type Endpoint,
  Engine,
  generatePrivateKey,
  loadNativeAead,
  MacReceiver,
  MacSender,
  nodeCryptoAead,
  publicKeyFrom,
  SEAL_HEADROOM,
  SEAL_TAILROOM,
} from '@tunkit/wireguard';
import { markdownTable, median, writeResults } from '../lib/report.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const RUNS = Number(values.runs);
const A: Endpoint = { address: '10.0.0.1', port: 1 };
const B: Endpoint = { address: '10.0.0.2', port: 2 };

function handshakesPerSecond(): number {
  const aKey = generatePrivateKey();
  const bKey = generatePrivateKey();
  const a = { privateKey: aKey, publicKey: publicKeyFrom(aKey) };
  const b = { privateKey: bKey, publicKey: publicKeyFrom(bKey) };
  const toB = new MacSender(b.publicKey);
  const toA = new MacSender(a.publicKey);
  const atB = new MacReceiver(b.publicKey, 0);
  const atA = new MacReceiver(a.publicKey, 0);
  const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  const count = 500;
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const init = createInitiation(a, b.publicKey, undefined, i, Date.now(), random);
    if (!init) throw new Error('initiation');
    toB.seal(init.message, 0);
    if (!atB.mac1Valid(init.message)) throw new Error('mac1');
    const consumed = consumeInitiation(b, init.message);
    if (!consumed) throw new Error('consume');
    const response = createResponse(consumed, undefined, i, random);
    if (!response) throw new Error('response');
    toA.seal(response.message, 0);
    if (!atA.mac1Valid(response.message) || !consumeResponse(a, init.state, response.message))
      throw new Error('consume response');
  }
  return count / ((performance.now() - started) / 1000);
}

/** Two engines with a session, a's packets sealed for b. */
function session(aead: AeadBackend): { a: Engine; b: Engine } {
  const aKey = generatePrivateKey();
  const bKey = generatePrivateKey();
  const a = new Engine({ privateKey: aKey, mtu: 1420, aead });
  const b = new Engine({ privateKey: bKey, mtu: 1420, aead });
  a.addPeer({ publicKey: publicKeyFrom(bKey), endpoint: B }, ['10.9.0.2/32']);
  b.addPeer({ publicKey: publicKeyFrom(aKey) }, ['10.9.0.1/32']);
  const one = new PacketBatch({ capacity: 1 });
  one.push(sequencePacket(0, 64, [10, 9, 0, 1], [10, 9, 0, 2]));
  const step = (engine: Engine, datagrams: PacketBatch, from: Endpoint) => {
    const out = new PacketBatch({ capacity: 200 });
    engine.receiveBatch(datagrams, new Array(datagrams.length).fill(from), new PacketBatch({ capacity: 200 }), out, []);
    engine.processHandshakes(out, []);
    return out;
  };
  const init = new PacketBatch({ capacity: 200 });
  a.sealBatch(one, [], init, []);
  const flushed = step(a, step(b, init, A), B);
  step(b, flushed, A);
  return { a, b };
}

function sealOpen(
  aead: AeadBackend,
  size: number,
  batchSize: number,
): { seal: number; appended: number; open: number; openInPlace: number } {
  const { a, b } = session(aead);
  const plaintext = Array.from({ length: batchSize }, (_, i) => sequencePacket(i, size, [10, 9, 0, 1], [10, 9, 0, 2]));
  const packets = new PacketBatch({ capacity: batchSize, headroom: SEAL_HEADROOM, tailroom: SEAL_TAILROOM });
  const total = 20_000;
  const rounds = Math.ceil(total / batchSize);
  const sealed: PacketBatch[] = [];
  const to: Endpoint[] = [];
  const noOut = new PacketBatch({ capacity: 4 });
  const plain = new PacketBatch({ capacity: batchSize });
  const appended = new PacketBatch({ capacity: batchSize, byteCapacity: batchSize * 2048 });
  let sealTime = 0;
  let appendTime = 0;
  for (let r = 0; r < rounds; r++) {
    plain.clear();
    appended.clear();
    for (const p of plaintext) plain.push(p);
    const before = performance.now();
    a.sealBatch(plain, to, appended, to); // the same work, sealed into another batch
    appendTime += performance.now() - before;
    packets.clear();
    for (const p of plaintext) packets.push(p); // as recvMany from the TUN would fill it
    const started = performance.now();
    a.sealBatch(packets, to, noOut, []); // in place
    sealTime += performance.now() - started;
    const copy = new PacketBatch({ capacity: batchSize, byteCapacity: batchSize * 2048 });
    for (const d of packets) copy.push(d);
    sealed.push(copy);
  }
  // A second set on later counters, for opening in place (the first set is opened by then, and
  // the replay window refuses a counter twice).
  const sealedAgain: PacketBatch[] = [];
  for (let r = 0; r < rounds; r++) {
    packets.clear();
    for (const p of plaintext) packets.push(p);
    a.sealBatch(packets, to, noOut, []);
    const copy = new PacketBatch({ capacity: batchSize, byteCapacity: batchSize * 2048 });
    for (const d of packets) copy.push(d);
    sealedAgain.push(copy);
  }
  const sealSeconds = sealTime / 1000;
  const tun = new PacketBatch({ capacity: batchSize, byteCapacity: batchSize * 2048 });
  const replies = new PacketBatch({ capacity: 4 });
  const from = new Array(batchSize).fill(A);
  const started = performance.now();
  for (const datagrams of sealed) {
    tun.clear();
    b.receiveBatch(datagrams, from, tun, replies, to);
    if (tun.length !== datagrams.length) throw new Error(`opened ${tun.length} of ${datagrams.length}`);
  }
  const openSeconds = (performance.now() - started) / 1000;
  const inPlaceStarted = performance.now();
  for (const datagrams of sealedAgain) {
    const count = datagrams.length;
    b.receiveBatch(datagrams, from, datagrams, replies, to); // as the Device does: no copy
    if (datagrams.length !== count) throw new Error(`opened ${datagrams.length} of ${count} in place`);
  }
  const inPlaceSeconds = (performance.now() - inPlaceStarted) / 1000;
  const packetsSealed = rounds * batchSize;
  return {
    seal: packetsSealed / sealSeconds,
    appended: packetsSealed / (appendTime / 1000),
    open: packetsSealed / openSeconds,
    openInPlace: packetsSealed / inPlaceSeconds,
  };
}

const backends = [loadNativeAead(), nodeCryptoAead].filter((b): b is AeadBackend => b !== undefined);
const handshakes: number[] = [];
const rates = new Map<string, { seal: number[]; appended: number[]; open: number[]; openInPlace: number[] }>();
for (let run = 0; run < RUNS; run++) {
  handshakes.push(handshakesPerSecond());
  for (const backend of backends) {
    for (const size of [64, 512, 1400]) {
      for (const batch of [1, 100]) {
        const key = `${backend.name}|${size}|${batch}`;
        const r = sealOpen(backend, size, batch);
        const entry = rates.get(key) ?? { seal: [], appended: [], open: [], openInPlace: [] };
        entry.seal.push(r.seal);
        entry.appended.push(r.appended);
        entry.open.push(r.open);
        entry.openInPlace.push(r.openInPlace);
        rates.set(key, entry);
      }
    }
  }
}
const fallback = (size: number, batch: number) => rates.get(`${nodeCryptoAead.name}|${size}|${batch}`);
const rows = [...rates.entries()].map(([key, r]) => {
  const [backend, sizeText, batchText] = key.split('|') as [string, string, string];
  const size = Number(sizeText);
  const batch = Number(batchText);
  const base = fallback(size, batch);
  const ratio = (mine: number[], theirs: number[] | undefined) =>
    theirs ? `${(median(mine) / median(theirs)).toFixed(2)}×` : '-';
  return {
    backend,
    'packet bytes': size,
    batch,
    'seal packets/s': median(r.seal),
    'seal Gbit/s': (median(r.seal) * size * 8) / 1e9,
    'seal vs node:crypto': ratio(r.seal, base?.seal),
    'in place / appended': median(r.seal.map((v, i) => v / (r.appended[i] as number))),
    'open packets/s': median(r.open),
    'open Gbit/s': (median(r.open) * size * 8) / 1e9,
    'open vs node:crypto': ratio(r.open, base?.open),
    'open in place packets/s': median(r.openInPlace),
    'open in place / into a batch': median(r.openInPlace.map((v, i) => v / (r.open[i] as number))),
  };
});
console.log(`\nWireGuard engine, ChaCha20-Poly1305 backends side by side, median of ${RUNS} runs`);
console.log(`handshakes/s (both sides, MAC1 checked): ${Math.round(median(handshakes))}\n`);
console.log(markdownTable(rows));
console.log(`\nwrote ${writeResults('wireguard', { runs: RUNS, handshakesPerSecond: median(handshakes), rows })}`);
