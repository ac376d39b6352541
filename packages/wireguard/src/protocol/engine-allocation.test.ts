// The Device's per-packet paths allocate nothing: sealing a TUN batch in place, and opening a
// datagram batch in place, leave V8's young generation (where every short-lived object starts)
// as it was, however many packets go through; answering a flood of initiations under load with
// cookie replies allocates next to nothing (a clock reading) per message. Measured as new-space bytes per packet over whole
// batches: a full GC first, so that no scavenge empties new space during the measured call (a
// batch that saw one anyway is measured again), after a warm-up that lets the optimizing compiler
// take the paths as a running Device has them. The smallest heap object (a boxed number) is 16
// bytes, so a path that allocated anything per packet would show at least that.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { PacketBatch } from '@tunkit/tun-core';
import { sequencePacket } from '@tunkit/tun-core/testing';
import type { Endpoint } from '../bind/bind.js';
import { ENDPOINT_A, enginePair } from '../testing/engine-pair.js';
import { loadNativeAead } from './aead-batch.js';
import { MacSender } from './cookie.js';
import { Engine } from './engine.js';
import { generatePrivateKey, publicKeyFrom } from './keys.js';
import type { Keypair, Peer } from './peer.js';
import { SEAL_HEADROOM, SEAL_TAILROOM } from './seal.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const newSpaceUsed = () =>
  v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_used_size ?? 0;

const SMALLEST_OBJECT = 16;
const BATCH = 64;
const WARM_UP = 400;
const MEASURED = 40;

/** New-space bytes allocated by `run` (after a full GC, so that no scavenge is due); undefined when one ran anyway. */
function youngBytes(run: () => void): number | undefined {
  gc();
  const before = newSpaceUsed();
  run();
  const allocated = newSpaceUsed() - before;
  return allocated >= 0 ? allocated : undefined;
}

/** The median of MEASURED readings of `measure` (undefined ones are taken again). */
function median(measure: () => number | undefined): number {
  const readings: number[] = [];
  while (readings.length < MEASURED) {
    const reading = measure();
    if (reading !== undefined) readings.push(reading);
  }
  return readings.sort((x, y) => x - y)[MEASURED >> 1] as number;
}

/**
 * New-space bytes allocated per packet by `run` (which handles BATCH packets) after WARM_UP
 * unmeasured batches: the median over MEASURED batches of what `run` allocated less what an empty
 * call, measured just before, did (the statistics call itself builds objects, and how many changes
 * once it is optimized). `prepare` sets each batch up, unmeasured.
 */
function youngBytesPerPacket(prepare: () => void, run: () => void): number {
  for (let i = 0; i < WARM_UP; i++) {
    prepare();
    run();
  }
  const perBatch = median(() => {
    const idle = youngBytes(() => {});
    prepare();
    const busy = youngBytes(run);
    return idle === undefined || busy === undefined ? undefined : busy - idle;
  });
  return perBatch / BATCH;
}

// The node:crypto fallback makes a cipher object per packet by design; the batch addon is the
// backend whose paths are measured. It is built by every test run; in CI its absence fails.
const native = loadNativeAead();
const skip = native === undefined && !process.env.CI ? 'the native AEAD addon is not built here' : false;

/** Two engines with a session, and batches to seal and open, as a Device holds them. */
function setUp() {
  const { a, b, handshake } = enginePair({ startAt: 1_000.25, ...(native ? { aead: native } : {}) });
  handshake();
  const packets = new PacketBatch({ capacity: BATCH, headroom: SEAL_HEADROOM, tailroom: SEAL_TAILROOM });
  const plaintext = Array.from({ length: BATCH }, (_, i) => sequencePacket(i, 1000, [10, 9, 0, 1], [10, 9, 0, 2]));
  const fill = () => {
    packets.clear();
    for (const packet of plaintext) packets.push(packet);
  };
  const to: Endpoint[] = [];
  const from: Endpoint[] = new Array(BATCH).fill(ENDPOINT_A);
  const out = new PacketBatch({ capacity: 4 });
  const outTo: Endpoint[] = [];
  return { a, b, packets, fill, to, from, out, outTo };
}

describe('Engine hot paths', { skip }, () => {
  it('sealing a batch in place allocates nothing per packet, whatever the receiver index', (t) => {
    const { a, packets, fill, to, out, outTo } = setUp();
    // A peer picks its index from all 32 bits (wireguard-go does); one above 2^30 is no small
    // integer to V8, and handing it on as a number would box it per packet. Only the header
    // bytes change: this batch is never opened.
    (([...a.peers()][0] as Peer).current as Keypair).keys.remoteIndex = 0xc000_0001;
    const perPacket = youngBytesPerPacket(fill, () => {
      out.clear();
      a.sealBatch(packets, to, out, outTo);
    });
    assert.equal(packets.length, BATCH);
    assert.equal(out.length, 0);
    t.diagnostic(`${perPacket} bytes per packet`);
    assert.ok(perPacket < SMALLEST_OBJECT / 4, `${perPacket} bytes per packet`);
  });

  it('opening a datagram batch in place allocates nothing per packet', (t) => {
    const { a, b, packets, fill, to, from, out, outTo } = setUp();
    const seal = () => {
      fill();
      a.sealBatch(packets, to, out, outTo);
    };
    let delivered = 0;
    const perPacket = youngBytesPerPacket(seal, () => {
      out.clear();
      b.receiveBatch(packets, from, packets, out, outTo);
      delivered = packets.length;
    });
    assert.equal(delivered, BATCH);
    assert.equal(b.drops['decrypt-failed'] + b.drops.replayed, 0);
    t.diagnostic(`${perPacket} bytes per packet`);
    assert.ok(perPacket < SMALLEST_OBJECT / 4, `${perPacket} bytes per packet`);
  });
  it('answering a flood of initiations under load with cookie replies allocates next to nothing per message', (t) => {
    // A gateway under a flood: valid-MAC1 initiations with random bodies from many senders, each
    // answered with a cookie reply and no DH work. What is left is the clock read per message (a
    // number V8 boxes, 16 bytes, about twice); before, each message cost a view for its copy into the
    // queue and for the cookie reply's additional data, a cookie source array, a nonce array...
    // (about 900 bytes), which under a 5,000/s flood from many sources grew the young generation.
    const key = generatePrivateKey();
    const engine = new Engine({
      privateKey: key,
      mtu: 1420,
      underLoad: () => true,
      ...(native ? { aead: native } : {}),
    });
    const attacker = new MacSender(publicKeyFrom(key));
    const pool = Array.from({ length: BATCH }, () => {
      const message = randomBytes(148);
      message.set([1, 0, 0, 0]);
      attacker.seal(message, 0);
      return message;
    });
    const datagrams = new PacketBatch({ capacity: BATCH });
    const from: Endpoint[] = pool.map((_, i) => ({ address: `10.89.${i >> 4}.${i & 15}`, port: 40000 + i }));
    const tun = new PacketBatch({ capacity: BATCH });
    const out = new PacketBatch({ capacity: 2 * BATCH });
    const to: Endpoint[] = [];
    const fill = () => {
      datagrams.clear();
      for (const message of pool) datagrams.push(message);
    };
    const perPacket = youngBytesPerPacket(fill, () => {
      out.clear();
      engine.receiveBatch(datagrams, from, tun, out, to);
      engine.processHandshakes(out, to);
    });
    assert.equal(out.length, BATCH, 'one cookie reply per initiation');
    assert.equal(engine.drops['handshake-failed'], 0, 'no DH work');
    t.diagnostic(`${perPacket} bytes per message`);
    assert.ok(perPacket < 4 * SMALLEST_OBJECT, `${perPacket} bytes per message`);
  });
});
