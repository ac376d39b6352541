// Known answers from an independent implementation: bytes Debian's wireguard-go produced in a
// handshake with keys we chose (captured by test/capture-fixtures.ts). Our responder must accept
// its initiation, reproduce the response it accepted, and derive the keys it encrypted with.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { formatIpAddress, ipDestination, ipSource } from '@tunkit/tun-core';
import { MacReceiver, MacSender } from '../src/protocol/cookie.js';
import { aeadOpen } from '../src/protocol/crypto.js';
import { consumeInitiation, createResponse } from '../src/protocol/handshake.js';
import { parseKey, publicKeyFrom } from '../src/protocol/keys.js';
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
});
