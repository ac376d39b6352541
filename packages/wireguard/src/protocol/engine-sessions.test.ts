// The Engine's session rules on a fake clock: keypair rotation, confirmation, counters and limits,
// and the drops that keep the receive path from ever handing the Tun what it would refuse.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { PacketBatch } from '@tunkit/tun-core';
import { readSequence } from '@tunkit/tun-core/testing';
import type { Endpoint } from '../bind/bind.js';
import { ENDPOINT_A as A, ENDPOINT_B as B, enginePair as setup } from '../testing/engine-pair.js';
import type { Peer } from './peer.js';

const sequences = (batch: PacketBatch) => [...batch].map(readSequence);
const types = (batch: PacketBatch) => [...batch].map((d) => d[0]);

describe('Engine sessions', () => {
  it('drops (counted) a decrypted packet longer than its MTU instead of handing it to the Tun', () => {
    const { a, b, deliver, send, handshake } = setup({ mtuB: 1280 });
    handshake();
    const result = deliver(b, send(a, [1, 2], 1400), A);
    assert.equal(result.tun.length, 0);
    assert.equal(b.drops['inner-packet-too-big'], 2);
    assert.deepEqual(sequences(deliver(b, send(a, [3], 1280), A).tun), [3], 'MTU-sized packets still flow');
  });

  it('counts a datagram without a sender, and a full Tun batch, under their own reasons', () => {
    const { a, b, send, handshake } = setup();
    handshake();
    const datagrams = send(a, [1, 2, 3]);
    const tun = new PacketBatch({ capacity: 2 });
    b.receiveBatch(datagrams, [A, undefined as unknown as Endpoint, A], tun, new PacketBatch(), []);
    assert.equal(b.drops['no-source'], 1);
    assert.equal(tun.length, 2);
    const full = new PacketBatch({ capacity: 1 });
    b.receiveBatch(send(a, [4, 5]), [A, A], full, new PacketBatch(), []);
    assert.equal(b.drops['tun-batch-full'], 1);
    assert.equal(b.drops['bad-inner-packet'], 0);
  });

  it('under load, answers an initiation from a link-local IPv6 sender with a zone (fe80::1%eth0) with a cookie', () => {
    const { a, b, deliver, send } = setup({ underLoad: true });
    const initiation = send(a, [1]);
    const replies = deliver(b, initiation, { address: 'fe80::1%eth0', port: 51820 }).replies;
    assert.deepEqual(types(replies), [3]);
    assert.equal(b.drops['needs-cookie'], 1);
    const bogus = deliver(b, initiation, { address: 'not an address', port: 1 });
    assert.equal(bogus.replies.length, 0, 'never answered');
    assert.equal(b.drops['bad-source'], 1);
  });

  it('responder: sends nothing on `next` before confirmation, then flushes what it staged once the initiator uses it', () => {
    const { a, b, deliver, send } = setup();
    const response = deliver(b, send(a, [1]), A).replies;
    const early = send(b, [7, 8]); // b has only `next`: staged, no data, no crossing initiation
    assert.equal(early.length, 0);
    const flushed = deliver(a, response, B).replies; // a's staged packet 1 on the new session
    const atB = deliver(b, flushed, A);
    assert.deepEqual(sequences(atB.tun), [1]);
    assert.deepEqual(types(atB.replies), [4, 4], 'staged packets go out as soon as `next` is confirmed');
    assert.deepEqual(sequences(deliver(a, atB.replies, B).tun), [7, 8]);
  });

  it('sets the latest handshake when it is confirmed: responder on first data, not on the initiation', () => {
    const { a, b, deliver, send } = setup();
    const response = deliver(b, send(a, [1]), A).replies;
    const atB = [...b.peers()][0] as Peer;
    assert.equal(atB.lastHandshakeWallMs, 0, 'an initiation alone proves nothing');
    const flushed = deliver(a, response, B).replies;
    assert.ok(([...a.peers()][0] as Peer).lastHandshakeWallMs > 0);
    deliver(b, flushed, A);
    assert.ok(atB.lastHandshakeWallMs > 0);
    assert.equal(b.counters.handshakesCompleted, 1);
  });

  it('crossing initiations: each side keeps the other’s unconfirmed keypair as previous, so data on both opens', () => {
    const { a, b, deliver, send } = setup();
    (([...b.peers()][0] as Peer).endpoint as Endpoint | undefined) = A;
    const fromA = send(a, [1]);
    const fromB = send(b, [2]);
    assert.deepEqual([types(fromA), types(fromB)], [[1], [1]]);
    const responseFromB = deliver(b, fromA, A).replies;
    const responseFromA = deliver(a, fromB, B).replies;
    const dataFromA = deliver(a, responseFromB, B).replies; // a: current = its own session
    const dataFromB = deliver(b, responseFromA, A).replies; // b: current = its own session
    assert.deepEqual(sequences(deliver(b, dataFromA, A).tun), [1]);
    assert.deepEqual(sequences(deliver(a, dataFromB, B).tun), [2]);
    assert.deepEqual(sequences(deliver(a, send(b, [3]), B).tun), [3]);
    assert.deepEqual(sequences(deliver(b, send(a, [4]), A).tun), [4]);
    assert.equal(a.drops['unknown-index'] + b.drops['unknown-index'], 0);
  });

  it('refuses transport counters at REJECT_AFTER_MESSAGES on receive', () => {
    const { a, b, deliver, send, handshake } = setup({ timersB: { rejectAfterMessages: 4 } });
    handshake(); // counter 0 used by the flushed packet
    const result = deliver(b, send(a, [1, 2, 3, 4, 5]), A); // counters 1..5
    assert.deepEqual(sequences(result.tun), [1, 2, 3]);
    assert.equal(b.drops['counter-limit'], 2);
  });

  it('starts a rekey after REKEY_AFTER_MESSAGES on either side (the responder too)', () => {
    const { b, send, handshake, advance } = setup({ timersB: { rekeyAfterMessages: 3 } });
    handshake();
    advance(5_000); // past the REKEY_TIMEOUT since b's response
    assert.deepEqual(types(send(b, [1, 2, 3])), [4, 4, 4]);
    assert.deepEqual(types(send(b, [4])), [4, 1], 'the 4th message crosses the limit: an initiation follows');
  });

  it('roams to the source of authenticated packets only', () => {
    const { a, b, deliver, send, handshake } = setup();
    const atB = handshake();
    const roamed: Endpoint = { address: '192.0.2.7', port: 4444 };
    assert.deepEqual(sequences(deliver(b, send(a, [1]), roamed).tun), [1]);
    assert.deepEqual(atB.endpoint, roamed);
    const forged = send(a, [2]);
    const bytes = forged.packet(0);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    deliver(b, forged, { address: '203.0.113.9', port: 1 });
    assert.equal(b.drops['decrypt-failed'], 1);
    assert.deepEqual(atB.endpoint, roamed, 'a forged packet does not move the endpoint');
  });

  it('drops a replayed transport packet, counted', () => {
    const { a, b, deliver, send, handshake } = setup();
    handshake();
    const data = send(a, [1]);
    const copy = new PacketBatch({ capacity: 1 });
    copy.push(data.packet(0));
    assert.deepEqual(sequences(deliver(b, data, A).tun), [1]);
    assert.equal(deliver(b, copy, A).tun.length, 0);
    assert.equal(b.drops.replayed, 1);
  });

  it('after REJECT_AFTER_TIME: refuses the old keypair on receive, and stages + re-initiates on send', () => {
    const { a, b, deliver, send, handshake, advance } = setup();
    handshake();
    const late = send(a, [1]);
    advance(180_000);
    assert.equal(deliver(b, late, A).tun.length, 0);
    assert.equal(b.drops['expired-keypair'], 1);
    const out = send(a, [2]);
    assert.deepEqual(types(out), [1], 'no data on an expired keypair: an initiation, packet 2 staged');
    assert.deepEqual(sequences(deliver(b, deliver(a, deliver(b, out, A).replies, B).replies, A).tun), [2]);
  });

  it('sends a persistent keepalive every interval, even with no traffic', () => {
    const { a, b, deliver, tick, handshake, advance } = setup();
    handshake();
    const peer = [...a.peers()][0] as Peer;
    peer.persistentKeepalive = 25;
    advance(10_000);
    deliver(a, tick(b), B); // b's keepalive answers a's data: no rekey for unanswered data
    advance(14_000);
    assert.equal(tick(a).length, 0);
    advance(1_000);
    const keepalive = tick(a);
    assert.deepEqual(
      [...keepalive].map((d) => d.length),
      [32],
    );
    assert.equal(tick(a).length, 0, 'not again until the next interval');
  });

  it('rate-limits initiations to one per REKEY_TIMEOUT', () => {
    const { a, send, advance } = setup();
    assert.deepEqual(types(send(a, [1])), [1]);
    advance(4_999);
    assert.deepEqual(types(send(a, [2])), []);
    advance(1);
    assert.deepEqual(types(send(a, [3])), [1]);
    assert.equal(a.counters.handshakesInitiated, 2);
  });

  it('jitters retransmissions within [REKEY_TIMEOUT, REKEY_TIMEOUT + jitterMax)', () => {
    for (const byte of [0, 255]) {
      // The one-byte draw is the jitter's; everything else (keys, indices) stays random.
      const random = (n: number) => (n === 1 ? Uint8Array.of(byte) : new Uint8Array(randomBytes(n)));
      const { a, send, tick, advance } = setup({ timersA: { jitterMax: 334 }, random });
      send(a, [1]);
      const jitter = byte === 0 ? 0 : Math.floor((255 / 256) * 334);
      assert.ok(jitter < 334);
      advance(5_000 + jitter - 1);
      assert.equal(tick(a).length, 0, `not before 5000 + ${jitter} ms`);
      advance(1);
      assert.deepEqual(types(tick(a)), [1], `at 5000 + ${jitter} ms`);
    }
  });
});
