import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { blake2s } from '@noble/hashes/blake2.js';
import {
  aeadOpen,
  aeadSeal,
  hash,
  hmac,
  kdf,
  mac,
  x25519,
  x25519PublicKey,
  xaeadOpen,
  xaeadSeal,
  xaeadSealInto,
} from './crypto.js';
import { formatKey, generatePresharedKey, generatePrivateKey, parseKey, publicKeyFrom } from './keys.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const text = (s: string) => new TextEncoder().encode(s);

describe('WireGuard primitives (known answers from their specifications)', () => {
  it('BLAKE2s-256 ("abc", RFC 7693 appendix B) and keyed BLAKE2s (the BLAKE2 reference KAT)', () => {
    assert.equal(hex(hash(text('abc'))), '508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982');
    // blake2s-kat.txt (the BLAKE2 reference keyed vectors): key = 00..1f, inputs "" and 00.
    const key = bytes('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
    assert.equal(
      hex(blake2s(new Uint8Array(0), { key })),
      '48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49',
    );
    assert.equal(
      hex(blake2s(Uint8Array.of(0), { key })),
      '40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1',
    );
    // WireGuard's MAC is keyed BLAKE2s with a 16-byte digest (a parameter, not a truncation);
    // wireguard-go verifying our MAC1 in the interop test is its independent check.
    assert.equal(hex(mac(key, Uint8Array.of(0))), hex(blake2s(Uint8Array.of(0), { key, dkLen: 16 })));
    assert.notEqual(hex(mac(key, Uint8Array.of(0))), hex(blake2s(Uint8Array.of(0), { key })).slice(0, 32));
  });

  it('HMAC-BLAKE2s and the KDF follow HMAC’s construction (RFC 2104)', () => {
    // HMAC(k, m) = H((k ⊕ opad) || H((k ⊕ ipad) || m)) with a 64-byte block.
    const key = new Uint8Array(32).fill(7);
    const message = text('wireguard');
    const block = new Uint8Array(64);
    block.set(key);
    const ipad = block.map((b) => b ^ 0x36);
    const opad = block.map((b) => b ^ 0x5c);
    assert.equal(hex(hmac(key, message)), hex(hash(opad, hash(ipad, message))));
    const [t1, t2, t3] = kdf(3, key, message);
    const t0 = hmac(key, message);
    assert.equal(hex(t1 as Uint8Array), hex(hmac(t0, Uint8Array.of(1))));
    assert.equal(hex(t2 as Uint8Array), hex(hmac(t0, t1 as Uint8Array, Uint8Array.of(2))));
    assert.equal(hex(t3 as Uint8Array), hex(hmac(t0, t2 as Uint8Array, Uint8Array.of(3))));
  });

  it('X25519 matches RFC 7748 section 6.1 and refuses a low-order point', () => {
    const alice = bytes('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const bob = bytes('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
    assert.equal(hex(x25519PublicKey(alice)), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    assert.equal(
      hex(x25519(alice, x25519PublicKey(bob)) as Uint8Array),
      '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
    );
    assert.equal(x25519(alice, new Uint8Array(32)), undefined);
  });

  it('ChaCha20-Poly1305 (WireGuard nonce layout) and XChaCha20-Poly1305 round-trip and refuse tampering', () => {
    const key = bytes('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
    const nonceCounter = 2 ** 40 + 12345; // above 32 bits: the high word of the counter is used
    const aad = bytes('50515253c0c1c2c3c4c5c6c7');
    const plaintext = text(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    const sealed = aeadSeal(key, nonceCounter, plaintext, aad);
    assert.equal(sealed.length, plaintext.length + 16);
    assert.deepEqual(aeadOpen(key, nonceCounter, sealed, aad), Buffer.from(plaintext));
    sealed[0] = (sealed[0] as number) ^ 1;
    assert.equal(aeadOpen(key, nonceCounter, sealed, aad), undefined);
    const nonce24 = new Uint8Array(24).fill(9);
    const x = xaeadSeal(key, nonce24, plaintext, aad);
    assert.deepEqual(xaeadOpen(key, nonce24, x, aad), plaintext);
    assert.equal(xaeadOpen(key, nonce24, x, new Uint8Array(1)), undefined);
  });

  it('XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha A.3.1), sealed in place through the addon where it loads', () => {
    const key = bytes('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
    const nonce = bytes('404142434445464748494a4b4c4d4e4f5051525354555657');
    const aad = bytes('50515253c0c1c2c3c4c5c6c7');
    const plaintext = text(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    const out = new Uint8Array(3 + plaintext.length + 16);
    xaeadSealInto(key, nonce, plaintext, aad, out, 3);
    assert.equal(
      hex(out.subarray(3)),
      'bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e' +
        'c0875924c1c7987947deafd8780acf49',
    );
    // And @noble's for random keys, nonces and lengths (a cookie is 16 bytes; others too).
    for (let length = 0; length < 80; length += 7) {
      const k = randomBytes(32);
      const n = randomBytes(24);
      const p = randomBytes(length);
      const a = randomBytes(16);
      const sealed = new Uint8Array(length + 16);
      xaeadSealInto(k, n, p, a, sealed, 0);
      assert.equal(hex(sealed), hex(xchacha20poly1305(k, n, a).encrypt(p)), `length ${length}`);
    }
  });
});

describe('keys', () => {
  it('round-trip base64 and refuse bad keys without echoing them', () => {
    const key = generatePrivateKey();
    assert.equal((key[0] as number) & 7, 0);
    assert.equal((key[31] as number) & 0xc0, 0x40);
    assert.deepEqual(parseKey(formatKey(key), 'PrivateKey'), key);
    assert.throws(
      () => parseKey('not-a-key', 'PrivateKey'),
      (e: Error) => /PrivateKey/.test(e.message) && !e.message.includes('not-a-key'),
    );
    assert.equal(generatePresharedKey().length, 32);
  });

  it('publicKeyFrom matches `wg pubkey` (wireguard-tools), when installed', (t) => {
    if (spawnSync('sh', ['-c', 'command -v wg']).status !== 0) {
      if (process.env.CI === 'true') throw new Error('wg must be installed in CI');
      t.skip('wg (wireguard-tools) is not installed');
      return;
    }
    for (let i = 0; i < 5; i++) {
      const generated = spawnSync('wg', ['genkey'], { encoding: 'utf8' }).stdout.trim();
      const theirs = spawnSync('wg', ['pubkey'], { input: generated, encoding: 'utf8' }).stdout.trim();
      assert.equal(formatKey(publicKeyFrom(parseKey(generated, 'key'))), theirs);
      const ours = formatKey(generatePrivateKey());
      const theirsOfOurs = spawnSync('wg', ['pubkey'], { input: ours, encoding: 'utf8' }).stdout.trim();
      assert.equal(formatKey(publicKeyFrom(parseKey(ours, 'key'))), theirsOfOurs);
    }
  });
});
