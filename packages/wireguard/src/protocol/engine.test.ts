// The Engine driven with a fake clock and no I/O: two engines pass batches by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PacketBatch } from '@tunkit/tun-core';
import { readSequence, sequencePacket } from '@tunkit/tun-core/testing';
import type { Endpoint } from '../bind/bind.js';
import { ENDPOINT_A as A, ENDPOINT_B as B, enginePair as setup } from '../testing/engine-pair.js';
import { generatePrivateKey, publicKeyFrom } from './keys.js';
import { SEAL_HEADROOM, SEAL_TAILROOM } from './seal.js';

const sequences = (batch: PacketBatch) => [...batch].map(readSequence);

describe('Engine', () => {
  it('completes a handshake, flushes staged packets, and refuses a replayed initiation', () => {
    const { a, b, deliver, send } = setup();
    const initiation = send(a, [1, 2, 3]);
    assert.equal(initiation.length, 1); // the packets are staged behind the handshake
    const copy = new PacketBatch({ capacity: 1 });
    copy.push(initiation.packet(0));
    const response = deliver(b, initiation, A).replies;
    assert.equal(response.length, 1);
    const flushed = deliver(a, response, B).replies;
    assert.equal(flushed.length, 3);
    assert.deepEqual(sequences(deliver(b, flushed, A).tun), [1, 2, 3]);
    deliver(b, copy, A); // the same initiation again
    assert.equal(b.drops['stale-timestamp'], 1);
  });

  it('under load, answers a valid-MAC1 initiation with a cookie; the retry carries MAC2 and succeeds', () => {
    const { a, b, deliver, send, tick, advance } = setup({ underLoad: true });
    const first = send(a, [1]);
    const cookie = deliver(b, first, A).replies;
    assert.equal(cookie.length, 1);
    assert.equal(cookie.packet(0)[0], 3);
    assert.equal(b.drops['needs-cookie'], 1);
    assert.equal(deliver(a, cookie, B).replies.length, 0);
    assert.equal(a.drops['bad-cookie-reply'], 0);
    advance(5_000);
    const retry = tick(a);
    assert.equal(retry.length, 1);
    const response = deliver(b, retry, A).replies;
    assert.equal(response.packet(0)[0], 2, 'a response, not another cookie');
    assert.deepEqual(sequences(deliver(b, deliver(a, response, B).replies, A).tun), [1]);
  });

  it('rekeys after REKEY_AFTER_TIME as initiator, and keeps the previous keypair for packets in flight', () => {
    const { a, b, deliver, send, advance } = setup();
    deliver(a, deliver(b, send(a, [1]), A).replies, B);
    const inFlight = send(a, [2]);
    advance(121_000);
    const out = send(a, [3]); // data on the old keypair, then a new initiation
    assert.equal(out.length, 2);
    assert.equal(out.packet(1)[0], 1);
    assert.deepEqual(sequences(deliver(b, inFlight, A).tun), [2]);
    const response = deliver(b, out, A).replies;
    deliver(a, response, B);
    assert.equal(a.counters.handshakesCompleted, 2);
    assert.deepEqual(sequences(deliver(b, send(a, [4]), A).tun), [4]);
  });

  it('gives up after REKEY_ATTEMPT_TIME, dropping staged packets (counted), and bounds the staging queue', () => {
    const { a, send, tick, advance } = setup();
    send(
      a,
      Array.from({ length: 150 }, (_, i) => i),
    );
    assert.equal(a.drops['staged-overflow'], 150 - 128);
    for (let t = 0; t < 20; t++) {
      advance(5_000);
      tick(a);
    }
    assert.equal(a.drops['handshake-timeout'], 128);
    assert.ok(a.counters.handshakesInitiated >= 18);
  });

  it('sends a keepalive when data arrived and nothing went back for KEEPALIVE_TIMEOUT', () => {
    const { a, b, deliver, send, tick, advance } = setup();
    deliver(a, deliver(b, send(a, [1]), A).replies, B);
    deliver(b, send(a, [2]), A);
    advance(10_000);
    const keepalive = tick(b);
    assert.equal(keepalive.length, 1);
    assert.equal(keepalive.packet(0).length, 32);
    assert.equal(b.counters.keepalivesSent, 1);
    assert.equal(deliver(a, keepalive, B).tun.length, 0);
  });

  it('seals in place in a batch with headroom and tailroom: same sizes as appending, both open, unroutable packets compacted out', () => {
    const { a, b, deliver, send } = setup();
    deliver(a, deliver(b, send(a, [0]), A).replies, B); // session up; packet 0 flushed
    const sizes = [20, 100, 1371, 1372, 1385, 1419, 1420];
    const inPlace = new PacketBatch({ capacity: 20, headroom: SEAL_HEADROOM, tailroom: SEAL_TAILROOM });
    const plain = new PacketBatch({ capacity: 20 });
    for (const [i, size] of sizes.entries()) {
      const packet = sequencePacket(i + 1, size, [10, 9, 0, 1], [10, 9, 0, 2]);
      const stray = sequencePacket(100 + i, 60, [10, 9, 0, 1], [10, 77, 0, 2]); // no peer owns it
      inPlace.push(packet);
      inPlace.push(stray);
      plain.push(packet);
      plain.push(stray);
    }
    const to: Endpoint[] = [];
    const none = new PacketBatch({ capacity: 4 });
    a.sealBatch(inPlace, to, none, []);
    assert.equal(none.length, 0);
    assert.equal(inPlace.length, sizes.length);
    assert.deepEqual(to, new Array(sizes.length).fill(B));
    const resealed = new PacketBatch({ capacity: 20 });
    a.sealBatch(plain, [], resealed, []);
    assert.equal(plain.length, 0);
    assert.deepEqual(
      [...inPlace].map((d) => d.length),
      [...resealed].map((d) => d.length),
    );
    assert.deepEqual(sequences(deliver(b, inPlace, A).tun), [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(sequences(deliver(b, resealed, A).tun), [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(a.drops['no-route'], 2 * sizes.length);
  });

  it('drops packets from one peer to another when peer-to-peer is off, counted; delivers them when on', () => {
    const { a, b, deliver, send } = setup();
    deliver(a, deliver(b, send(a, [0]), A).replies, B);
    b.addPeer({ publicKey: publicKeyFrom(generatePrivateKey()) }, ['10.9.0.3/32']);
    a.allowedIps.insert('10.9.0.3/32', [...a.peers()][0] as ReturnType<typeof a.addPeer>);
    const toPeer = (seq: number) => {
      const packets = new PacketBatch({ capacity: 1 });
      packets.push(sequencePacket(seq, 100, [10, 9, 0, 1], [10, 9, 0, 3]));
      const out = new PacketBatch({ capacity: 4 });
      a.sealBatch(packets, [], out, []);
      return out;
    };
    assert.deepEqual(sequences(deliver(b, toPeer(1), A).tun), [1]);
    b.allowPeerToPeer = false;
    assert.equal(deliver(b, toPeer(2), A).tun.length, 0);
    assert.equal(b.drops['peer-to-peer'], 1);
    assert.deepEqual(sequences(deliver(b, send(a, [3]), A).tun), [3], 'to the gateway itself still flows');
  });

  it('starts a new handshake KEEPALIVE + REKEY_TIMEOUT after the first unanswered data packet, even while data keeps flowing', () => {
    const { a, b, deliver, send, tick, advance } = setup();
    deliver(a, deliver(b, send(a, [0]), A).replies, B); // session up
    const initiated = a.counters.handshakesInitiated;
    for (let second = 1; second <= 14; second++) {
      advance(1_000);
      send(a, [second]); // the peer restarted: nothing comes back
      tick(a);
    }
    assert.equal(a.counters.handshakesInitiated, initiated, 'not yet at 14 s');
    advance(1_000);
    send(a, [15]);
    const out = tick(a);
    assert.equal(a.counters.handshakesInitiated, initiated + 1, 'at 15 s since the first unanswered packet');
    assert.equal(out.packet(out.length - 1)[0], 1, 'an initiation goes out');
  });
});
