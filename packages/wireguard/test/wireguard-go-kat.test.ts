// Known answers from an independent implementation: bytes Debian's wireguard-go produced in a
// handshake with keys we chose (captured by test/capture-fixtures.ts). Our responder must accept
// its initiation, reproduce the response it accepted, and derive the keys it encrypted with.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { formatIpAddress, ipDestination, ipSource } from '@tunkit/tun-core';
import { MacReceiver, MacSender } from '../src/protocol/cookie.js';
import { aeadOpen } from '../src/protocol/crypto.js';
import { consumeInitiation, consumeResponse, createInitiation, createResponse } from '../src/protocol/handshake.js';
import { parseKey, publicKeyFrom } from '../src/protocol/keys.js';
import { readUint32LE } from '../src/protocol/messages.js';
import { deterministicRandom } from './deterministic-random.js';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/wireguard-go-handshake.json', import.meta.url), 'utf8'));
const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

describe('known answers captured from wireguard-go', () => {
  const ourKey = parseKey(fixture.tunkitPrivateKey, 'tunkit key');
  const identity = { privateKey: ourKey, publicKey: publicKeyFrom(ourKey) };
  const theirPublic = publicKeyFrom(parseKey(fixture.wireguardGoPrivateKey, 'wireguard-go key'));

  it('accepts wireguard-go’s initiation: MAC1, static key and timestamp', () => {
    const initiation = bytes(fixture.initiation);
    assert.ok(new MacReceiver(identity.publicKey, 0).mac1Valid(initiation));
    const consumed = consumeInitiation(identity, initiation);
    assert.ok(consumed);
    assert.deepEqual(consumed.remoteStatic, theirPublic);
    assert.equal(consumed.timestamp.length, 12);
    const tampered = initiation.slice();
    tampered[50] = (tampered[50] as number) ^ 1;
    assert.equal(consumeInitiation(identity, tampered), undefined);
  });

  it('reproduces the response wireguard-go accepted, and opens its first transport packet', () => {
    const consumed = consumeInitiation(identity, bytes(fixture.initiation));
    assert.ok(consumed);
    const response = createResponse(
      consumed,
      undefined,
      fixture.responderIndex,
      deterministicRandom(fixture.responderSeed),
    );
    assert.ok(response);
    new MacSender(theirPublic).seal(response.message, 0);
    assert.equal(Buffer.from(response.message).toString('hex'), fixture.response);
    const transport = bytes(fixture.transport);
    const plain = aeadOpen(response.keys.receiveKey, 0, transport.subarray(16), new Uint8Array(0));
    assert.ok(plain, 'the keys we derive are the ones wireguard-go encrypted with');
    assert.equal((plain[0] as number) >> 4, 4);
    assert.equal(plain[9], 1, 'ICMP');
    assert.equal(plain[20], 8, 'echo request');
    assert.equal(formatIpAddress(ipSource(plain) as Uint8Array), fixture.innerSource);
    assert.equal(formatIpAddress(ipDestination(plain) as Uint8Array), fixture.innerDestination);
    transport[20] = (transport[20] as number) ^ 1;
    assert.equal(aeadOpen(response.keys.receiveKey, 0, transport.subarray(16), new Uint8Array(0)), undefined);
  });

  it('decrypts wireguard-go’s cookie reply, and computes the MAC2 it accepted under load', () => {
    const sender = new MacSender(theirPublic);
    const answered = bytes(fixture.cookieAnswers);
    const resealed = answered.slice();
    sender.seal(resealed, 0); // sets the MAC1 a cookie reply is bound to
    assert.deepEqual(
      resealed.subarray(0, 132),
      answered.subarray(0, 132),
      'same MAC1 as the initiation wireguard-go answered',
    );
    assert.ok(sender.consumeCookieReply(bytes(fixture.cookieReply), 0), 'the cookie reply decrypts');
    const accepted = bytes(fixture.mac2Initiation);
    const ours = accepted.slice();
    ours.fill(0, 116);
    sender.seal(ours, 1);
    assert.equal(
      Buffer.from(ours).toString('hex'),
      fixture.mac2Initiation,
      'MAC1 and MAC2 as wireguard-go accepted them',
    );
    const forged = bytes(fixture.cookieReply);
    forged[40] = (forged[40] as number) ^ 1;
    assert.equal(new MacSender(theirPublic).consumeCookieReply(forged, 0), false);
  });

  it('reproduces the MAC2 initiation from its seed and opens wireguard-go’s response to it', () => {
    const accepted = bytes(fixture.mac2Initiation);
    // The timestamp inside, read with wireguard-go's key, to rebuild the same message.
    const theirKey = parseKey(fixture.wireguardGoPrivateKey, 'wireguard-go key');
    const seen = consumeInitiation({ privateKey: theirKey, publicKey: theirPublic }, accepted);
    assert.ok(seen);
    const view = new DataView(seen.timestamp.buffer, seen.timestamp.byteOffset, 12);
    const nowMs = Number(view.getBigUint64(0) - (2n ** 62n + 10n)) * 1000 + view.getUint32(8) / 1e6;
    const rebuilt = createInitiation(
      identity,
      theirPublic,
      undefined,
      readUint32LE(accepted, 4),
      nowMs,
      deterministicRandom(fixture.mac2InitiationSeed),
    );
    assert.ok(rebuilt);
    assert.deepEqual(rebuilt.message.subarray(0, 116), accepted.subarray(0, 116));
    const keys = consumeResponse(identity, rebuilt.state, bytes(fixture.mac2Response));
    assert.ok(keys, 'wireguard-go answered the initiation whose MAC2 we computed');
    assert.equal(keys.localIndex, readUint32LE(accepted, 4));
  });
});
