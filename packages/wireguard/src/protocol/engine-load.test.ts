// The Engine under a handshake flood, on a fake clock: junk never reaches the handshake queue nor
// puts the Engine under load; valid-MAC1 initiations wait in the bounded queue (refused, counted,
// when it is full) and, once it is an eighth full, make the Engine ask for cookies for a second;
// sources with a cookie are rate-limited (20/s, burst 5) before any Diffie-Hellman work.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { PacketBatch } from '@tunkit/tun-core';
import type { Endpoint } from '../bind/bind.js';
import { MacSender } from './cookie.js';
import { Engine, type EngineOptions } from './engine.js';
import { generatePrivateKey, publicKeyFrom } from './keys.js';

const ATTACKER: Endpoint = { address: '192.0.2.66', port: 4000 };

function responder(options: Partial<EngineOptions> = {}) {
  let now = 1000;
  const privateKey = generatePrivateKey();
  const engine = new Engine({ privateKey, mtu: 1420, now: () => now, ...options });
  const to: Endpoint[] = [];
  const tun = new PacketBatch({ capacity: 256 });
  /** Delivers `messages` from `from`; returns what the Engine answered while receiving (nothing expected). */
  const deliver = (messages: Uint8Array[], from: Endpoint = ATTACKER) => {
    const batch = new PacketBatch({ capacity: messages.length, byteCapacity: messages.length * 160 });
    for (const m of messages) batch.push(m);
    const out = new PacketBatch({ capacity: 256 });
    tun.clear();
    engine.receiveBatch(batch, new Array(messages.length).fill(from), tun, out, to);
    return out;
  };
  const process = (max = Number.POSITIVE_INFINITY) => {
    const out = new PacketBatch({ capacity: 2048, byteCapacity: 2048 * 200 });
    engine.processHandshakes(out, to, max);
    return out;
  };
  return {
    engine,
    publicKey: publicKeyFrom(privateKey),
    deliver,
    process,
    advance: (ms: number) => (now += ms),
    now: () => now,
  };
}

/** An initiation with a random body that a sender knowing `publicKey` would send (MAC1 valid; MAC2 with a cookie). */
function forged(sender: MacSender, now: number): Uint8Array {
  const message = randomBytes(148);
  message.set([1, 0, 0, 0]);
  sender.seal(message, now);
  return message;
}

const types = (batch: PacketBatch) => [...batch].map((m) => m[0]);

describe('Engine under a handshake flood', () => {
  it('junk never enters the handshake queue nor switches load on', () => {
    const r = responder();
    const junk: Uint8Array[] = [];
    for (let i = 0; i < 2000; i++) {
      const m = randomBytes(i % 2 === 0 ? 148 : 92);
      m.set([i % 2 === 0 ? 1 : 2, 0, 0, 0]); // framed as an initiation or a response
      junk.push(m);
    }
    const random = Array.from({ length: 2000 }, () => randomBytes(1 + Math.floor(Math.random() * 300)));
    assert.equal(r.deliver(junk).length, 0);
    r.deliver(random);
    assert.equal(r.engine.drops['bad-mac1'], 2000);
    assert.equal(r.engine.handshakesQueued, 0);
    assert.equal(r.engine.underLoad, false);
    assert.equal(r.process().length, 0);
  });

  it('valid-MAC1 initiations wait in the queue; 1/8 of it makes cookies needed, for a second after', () => {
    const r = responder();
    const attacker = new MacSender(r.publicKey);
    const flood = Array.from({ length: 128 }, () => forged(attacker, r.now()));
    assert.equal(r.deliver(flood).length, 0, 'nothing is answered while receiving');
    assert.equal(r.engine.handshakesQueued, 128);
    assert.equal(r.engine.underLoad, true);
    const answers = r.process();
    assert.equal(r.engine.handshakesQueued, 0);
    assert.equal(answers.length, 128);
    assert.ok(
      types(answers).every((t) => t === 3),
      'every one got a cookie reply',
    );
    assert.equal(r.engine.counters.cookiesSent, 128);
    assert.equal(r.engine.drops['needs-cookie'], 128);
    assert.equal(r.engine.drops['handshake-failed'], 0, 'no Diffie-Hellman work was done');
    // The queue is empty, and the Engine stays under load for a second after it was deep.
    r.advance(999);
    r.deliver([forged(attacker, r.now())]);
    assert.deepEqual(types(r.process()), [3]);
    r.advance(2);
    assert.equal(r.engine.underLoad, false);
    r.deliver([forged(attacker, r.now())]);
    assert.equal(r.process().length, 0);
    assert.equal(r.engine.drops['handshake-failed'], 1, 'not under load: the message got its Diffie-Hellman try');
  });

  it('a full queue refuses and counts; processing takes a budget per turn', () => {
    const r = responder({ handshakeQueue: 16 });
    const attacker = new MacSender(r.publicKey);
    r.deliver(Array.from({ length: 20 }, () => forged(attacker, r.now())));
    assert.equal(r.engine.handshakesQueued, 16);
    assert.equal(r.engine.drops['handshake-queue-full'], 4);
    assert.equal(r.process(5).length, 5, 'five processed this turn');
    assert.equal(r.engine.handshakesQueued, 11);
    r.process();
    assert.equal(r.engine.handshakesQueued, 0);
  });

  it('under load, a source with a valid cookie gets 5 at once, then 20 a second; other sources are apart', () => {
    const r = responder({ underLoad: () => true });
    const withCookie = (from: Endpoint) => {
      const sender = new MacSender(r.publicKey);
      r.deliver([forged(sender, r.now())], from);
      const reply = r.process();
      assert.deepEqual(types(reply), [3]);
      assert.ok(sender.consumeCookieReply(reply.packet(0), r.now()));
      return sender;
    };
    const attacker = withCookie(ATTACKER);
    r.deliver(Array.from({ length: 12 }, () => forged(attacker, r.now())));
    assert.equal(r.process().length, 0, 'no cookie replies: the MAC2s are valid');
    assert.equal(r.engine.drops['handshake-failed'], 5, 'five reached the Diffie-Hellman work (random bodies fail it)');
    assert.equal(r.engine.drops.ratelimited, 7);
    r.advance(50);
    r.deliver([forged(attacker, r.now()), forged(attacker, r.now())]);
    r.process();
    assert.equal(r.engine.drops['handshake-failed'], 6, 'one token after 50 ms');
    assert.equal(r.engine.drops.ratelimited, 8);
    // Another address of the same host is another bucket (IPv4 by address); a second port is not.
    const other = withCookie({ address: '192.0.2.67', port: 4000 });
    r.deliver([forged(other, r.now())], { address: '192.0.2.67', port: 4000 });
    r.process();
    assert.equal(r.engine.drops['handshake-failed'], 7);
    const otherPort = withCookie({ address: '192.0.2.66', port: 4001 });
    r.deliver([forged(otherPort, r.now())], { address: '192.0.2.66', port: 4001 });
    r.process();
    assert.equal(r.engine.drops.ratelimited, 9, 'the same address from another port shares the bucket');
  });
});
