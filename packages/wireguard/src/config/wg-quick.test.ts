import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TunConfigError } from '@tunkit/tun-core';
import fc from 'fast-check';
import { formatKey, generatePrivateKey, publicKeyFrom } from '../protocol/keys.js';
import { parseWgQuick, resolveEndpoints, serializeWgQuick, type WgQuickConfig } from './wg-quick.js';

const priv = formatKey(generatePrivateKey());
const pub = formatKey(publicKeyFrom(generatePrivateKey()));

describe('wg-quick files', () => {
  it('parses an interface and peers, case-insensitively, with comments and lists', () => {
    const config = parseWgQuick(`
# a gateway
[Interface]
PrivateKey = ${priv}
ListenPort = 51820
Address = 10.8.0.1/24, fd08::1/64
address = 10.9.0.1/24
MTU = 1380
DNS = 10.8.0.53, example.internal
FwMark = 0x1234
Table = off

[Peer]   # laptop
PublicKey = ${pub}
AllowedIPs = 10.8.0.2/32, fd08::2/128
Endpoint = [fd00::1]:51821
PersistentKeepalive = 25

[peer]
publickey = ${pub}
allowedips = 0.0.0.0/0
endpoint = vpn.example.com:443
`);
    assert.equal(config.interface.listenPort, 51820);
    assert.deepEqual(config.interface.addresses, ['10.8.0.1/24', 'fd08::1/64', '10.9.0.1/24']);
    assert.equal(config.interface.mtu, 1380);
    assert.deepEqual(config.interface.dns, ['10.8.0.53', 'example.internal']);
    assert.equal(config.interface.fwmark, 0x1234);
    assert.equal(config.interface.table, 'off');
    assert.equal(config.peers.length, 2);
    assert.deepEqual(config.peers[0]?.endpoint, { host: 'fd00::1', port: 51821 });
    assert.equal(config.peers[0]?.persistentKeepalive, 25);
    assert.deepEqual(config.peers[1]?.endpoint, { host: 'vpn.example.com', port: 443 });
  });

  it('names the line and key of every error, never the secret value', () => {
    const cases: [string, RegExp][] = [
      [`[Interface]\nPrivateKey = nope`, /line 2: PrivateKey/],
      [`[Interface]\nPrivateKey = ${priv}\nListenPort = 70000`, /line 3: ListenPort: '70000'/],
      [`[Interface]\nPrivateKey = ${priv}\nBogus = 1`, /line 3: unknown key in \[Interface\] \(its name is not shown/],
      [
        `[Interface]\nPrivateKey = ${priv}\nListenPrt = 1`,
        /line 3: 'ListenPrt': unknown key in \[Interface\] \(did you mean ListenPort\?\)/,
      ],
      [`[Interface]\nPrivateKey = ${priv}\n[Peer]\nAllowedIPs = 10.0.0.0/8`, /line 3: Peer: PublicKey is required/],
      [
        `[Interface]\nPrivateKey = ${priv}\n[Peer]\nPublicKey = ${pub}\nAllowedIPs = 10.0.0.0/33`,
        /line 5: AllowedIPs: '10.0.0.0\/33'/,
      ],
      [`[Interface]\nPrivateKey = ${priv}\n[Peer]\nPublicKey = ${pub}\nEndpoint = [fd00::1:51820`, /line 5: Endpoint/],
      [`[Peer]\nPublicKey = ${pub}`, /no \[Interface\]/],
      [`Address = 10.0.0.1/24`, /line 1: Address: appears before/],
      [`[Interface]\nAddress = 10.0.0.1/24`, /needs a PrivateKey/],
    ];
    for (const [text, message] of cases) {
      assert.throws(
        () => parseWgQuick(text),
        (e: Error) => e instanceof TunConfigError && message.test(e.message) && !e.message.includes(priv),
        text,
      );
    }
  });

  it('keeps hook lines in file order, unexpanded, and SaveConfig, for the daemon to decide', () => {
    const config = parseWgQuick(
      [
        '[Interface]',
        `PrivateKey = ${priv}`,
        'PreUp = echo one %i',
        'PostUp = iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE',
        'preup = echo two',
        'PreDown = true',
        'PostDown = iptables -D FORWARD -i %i -j ACCEPT',
        'SaveConfig = True',
      ].join('\n'),
    );
    assert.deepEqual(config.interface.preUp, ['echo one %i', 'echo two']);
    assert.deepEqual(config.interface.postUp, [
      'iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE',
    ]);
    assert.deepEqual(config.interface.preDown, ['true']);
    assert.deepEqual(config.interface.postDown, ['iptables -D FORWARD -i %i -j ACCEPT']);
    assert.equal(config.interface.saveConfig, true);
    assert.throws(
      () => parseWgQuick(`[Interface]\nPrivateKey = ${priv}\nSaveConfig = yes`),
      /line 3: SaveConfig: .* is not true or false/,
    );
  });

  it('resolves DNS endpoints with an injectable lookup', async () => {
    const config = parseWgQuick(
      `[Interface]\nPrivateKey = ${priv}\n[Peer]\nPublicKey = ${pub}\nEndpoint = gw.test:51820`,
    );
    const resolved = await resolveEndpoints(config, async (host) => (host === 'gw.test' ? '192.0.2.7' : 'x'));
    assert.deepEqual(resolved.peers[0]?.endpoint, { host: '192.0.2.7', port: 51820 });
    await assert.rejects(
      resolveEndpoints(config, async () => Promise.reject(new Error('NXDOMAIN'))),
      /cannot resolve Endpoint host 'gw.test'/,
    );
  });

  it('property: serialize then parse gives the same configuration', () => {
    const key = fc.uint8Array({ minLength: 32, maxLength: 32 });
    const ip4 = fc
      .tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255), fc.integer({ min: 0, max: 32 }))
      .map(([a, b, c, d, p]) => `${a}.${b}.${c}.${d}/${p}`);
    const arbitrary: fc.Arbitrary<WgQuickConfig> = fc.record({
      interface: fc.record({
        privateKey: key,
        listenPort: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
        addresses: fc.array(ip4, { maxLength: 3 }),
        mtu: fc.option(fc.integer({ min: 68, max: 65535 }), { nil: undefined }),
        dns: fc.array(fc.constantFrom('10.0.0.53', 'corp.example'), { maxLength: 2 }),
        fwmark: fc.option(fc.nat(2 ** 32 - 1), { nil: undefined }),
        table: fc.option(fc.constantFrom('off', 'auto', '1234'), { nil: undefined }),
        preUp: fc.constant([]),
        postUp: fc.constant([]),
        preDown: fc.constant([]),
        postDown: fc.constant([]),
      }),
      peers: fc.array(
        fc.record({
          publicKey: key,
          presharedKey: fc.option(key, { nil: undefined }),
          allowedIps: fc.array(ip4, { maxLength: 3 }),
          endpoint: fc.option(
            fc.record({
              host: fc.constantFrom('192.0.2.1', 'fd00::1', 'gw.example'),
              port: fc.integer({ min: 1, max: 65535 }),
            }),
            { nil: undefined },
          ),
          persistentKeepalive: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
        }),
        { maxLength: 3 },
      ),
    }) as fc.Arbitrary<WgQuickConfig>;
    const clean = (c: WgQuickConfig) =>
      JSON.parse(JSON.stringify(c, (_k, v) => (v instanceof Uint8Array ? formatKey(v) : v)));
    fc.assert(
      fc.property(arbitrary, (config) => {
        assert.deepEqual(clean(parseWgQuick(serializeWgQuick(config))), clean(config));
      }),
      { numRuns: 200 },
    );
  });
});
