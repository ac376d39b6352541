// No parser error quotes a secret: the shared corpus of broken wg-quick files and UAPI requests,
// each carrying a known private and preshared key, and the rules each message is built by.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TunConfigError } from '@tunkit/tun-core';
import { brokenUapiBodies, brokenWgQuickConfigs, leakedSecrets, secretKeys } from '../testing/secret-corpus.js';
import { leadingKeyName, redactKeys, showKeyName, showValue } from './secret-safe.js';
import { parseUapiSet, UapiError } from './uapi.js';
import { parseWgQuick } from './wg-quick.js';

describe('errors never quote a secret', () => {
  const keys = secretKeys();

  for (const { name, text, says } of brokenWgQuickConfigs(keys)) {
    it(`wg-quick: ${name}`, () => {
      assert.throws(
        () => parseWgQuick(text),
        (error: Error) => {
          assert.ok(error instanceof TunConfigError, `${error}`);
          assert.deepEqual(leakedSecrets(error.message, keys), [], error.message);
          assert.match(error.message, says);
          return true;
        },
      );
    });
  }

  for (const { name, text, says } of brokenUapiBodies(keys)) {
    it(`UAPI: ${name}`, () => {
      assert.throws(
        () => parseUapiSet(text),
        (error: Error) => {
          assert.ok(error instanceof UapiError, `${error}`);
          assert.equal(error.errno, 22);
          assert.deepEqual(leakedSecrets(error.message, keys), [], error.message);
          assert.match(error.message, says);
          return true;
        },
      );
    });
  }
});

describe('secret-safe', () => {
  it('showValue quotes what cannot be a key and describes the rest', () => {
    assert.equal(showValue('10.0.0.0/33'), "'10.0.0.0/33'");
    assert.equal(showValue('fd00:1234:5678::1/129'), "'fd00:1234:5678::1/129'");
    assert.match(showValue('abcdefghijklmnop'), /a value of 16 characters \(not shown/);
    assert.match(showValue('x'.repeat(65).replaceAll('x', 'x.')), /not shown/);
  });

  it('showKeyName shows a typo of a known name, with the name meant, and nothing else', () => {
    assert.deepEqual(showKeyName('PresharedKye', ['PublicKey', 'PresharedKey']), {
      name: 'PresharedKye',
      meant: 'PresharedKey',
    });
    assert.deepEqual(showKeyName('Bogus', ['PublicKey']), {});
    assert.deepEqual(showKeyName('yGkUzXH9T6GEkoYp6KdXQ0Q9LZ9f0', ['PublicKey']), {});
  });

  it('leadingKeyName finds a known name at the start of a line without =', () => {
    assert.equal(leadingKeyName('privatekey abc', ['PrivateKey']), 'PrivateKey');
    assert.equal(leadingKeyName('PrivateKey: abc', ['PrivateKey']), 'PrivateKey');
    assert.equal(leadingKeyName('PrivateKeyabc', ['PrivateKey']), undefined);
  });

  it('redactKeys replaces base64 and hex keys wherever they stand', () => {
    const key = 'yGkUzXH9T6GEkoYp6KdXQ0Q9LZ9f0MQ0n3Ehr8v4QkE=';
    const hex = 'a'.repeat(64);
    assert.equal(redactKeys(`wg set %i private-key <(echo ${key})`), 'wg set %i private-key <(echo (redacted))');
    assert.equal(redactKeys(`x ${hex} y`), 'x (redacted) y');
    assert.equal(redactKeys(`tool --psk=${key} --peer=${hex}`), 'tool --psk=(redacted) --peer=(redacted)');
    assert.equal(redactKeys('iptables -A FORWARD -i wg0 -j ACCEPT'), 'iptables -A FORWARD -i wg0 -j ACCEPT');
  });
});
