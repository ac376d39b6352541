// A peer that reaches the gateway over an IPv6 link-local address (fe80::/10): its datagrams come
// from an address that only means something on one interface, so the answer must leave through
// that interface. Both Binds keep the sender's scope: the native Linux bind its scope id, the
// node:dgram one the zone dgram reports ("fe80::…%va"); without it, every reply left through
// whichever interface's fe80::/64 route came first (lost without a word), or failed with EINVAL.
// For each Bind, a tunkit Device on a real TUN in one namespace with the Bind on "::", Debian's
// wireguard-go in another, their only path the veth's link-local addresses, and a decoy veth to a
// third namespace made first (so an unscoped reply takes it): wireguard-go initiates, and the ping
// crosses the tunnel both ways.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createNamespace, privilegedSuite, type TestNamespace, vethPair, waitUntil } from '@tunkit/tun-core/testing';
import { enterNetworkNamespace, openTun } from '@tunkit/tun-linux';
import type { Bind, BindStats } from '../../src/bind/bind.js';
import { LinuxUdpBind } from '../../src/bind/linux-udp-bind.js';
import { UdpBind } from '../../src/bind/udp-bind.js';
import { Device } from '../../src/device/device.js';
import { formatKey, generatePrivateKey, publicKeyFrom } from '../../src/protocol/keys.js';
import { startWireguardGo, type WireguardGo } from '../wireguard-go.js';

const run = promisify(execFile);
const haveTools = ['wireguard-go', 'wg'].every((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0);
const suite = privilegedSuite(
  'a WireGuard peer on a link-local address',
  haveTools ? undefined : 'wireguard-go and wg are not installed (apt-get install wireguard-go wireguard-tools)',
);

const backends: { name: string; tag: string; open(port: number): Promise<Bind & { stats(): BindStats }> }[] = [
  { name: 'native bind', tag: 'n', open: (port) => LinuxUdpBind.open({ port }) },
  { name: 'node:dgram bind', tag: 'd', open: (port) => UdpBind.open({ port }) },
];

/** The link-local address of `device` in `ns`, once it is no longer tentative. */
async function linkLocal(ns: TestNamespace, device: string): Promise<string> {
  let address = '';
  await waitUntil(
    `a link-local address on ${device}`,
    () => {
      const line = ns.exec('ip', ['-6', '-o', 'addr', 'show', 'dev', device, 'scope', 'link']);
      address = /inet6 (fe80::[0-9a-f:]+)\/64/.exec(line)?.[1] ?? '';
      return address !== '' && !line.includes('tentative');
    },
    10_000,
  );
  return address;
}

for (const backend of backends) {
  const id = `${backend.tag}${process.pid % 10000}`;
  const ourName = `tkl${id}`;
  const theirName = `wgl${id}`;

  describe(`WireGuard over link-local IPv6, ${backend.name}`, { skip: suite.skip, timeout: 60_000 }, () => {
    let here: TestNamespace;
    let there: TestNamespace;
    let decoy: TestNamespace;
    let device: Device | undefined;
    let wireguardGo: WireguardGo | undefined;

    before(() => {
      here = createNamespace(`llA${backend.tag}`);
      there = createNamespace(`llB${backend.tag}`);
      decoy = createNamespace(`llC${backend.tag}`);
      for (const ns of [here, there, decoy]) ns.exec('sysctl', ['-qw', 'net.ipv6.conf.default.accept_dad=0']);
      vethPair(here, 'vx', '10.43.0.1/24', decoy, 'vy', '10.43.0.2/24'); // its fe80::/64 route comes first
      vethPair(here, 'va', '10.41.0.1/24', there, 'vb', '10.41.0.2/24');
    });

    after(async () => {
      await device?.close();
      wireguardGo?.stop();
      here?.destroy();
      there?.destroy();
      decoy?.destroy();
    });

    it('answers a peer whose endpoint is fe80::…%iface, through that interface', async () => {
      const ours = await linkLocal(here, 'va');
      const ourKey = generatePrivateKey();
      const theirKey = generatePrivateKey();
      wireguardGo = await startWireguardGo(
        there,
        theirName,
        theirKey,
        [
          'peer',
          formatKey(publicKeyFrom(ourKey)),
          'endpoint',
          `[${ours}%vb]:51820`,
          'allowed-ips',
          '10.42.0.1/32',
          'persistent-keepalive',
          '1',
        ],
        '10.42.0.2/24',
      );
      enterNetworkNamespace(here.name);
      const tun = await openTun({ name: ourName, addresses: ['10.42.0.1/24'] });
      const bind = await backend.open(51820);
      device = new Device({ tun, bind, privateKey: ourKey });
      const peer = device.addPeer({ publicKey: publicKeyFrom(theirKey) }, ['10.42.0.2/32']);
      device.start();
      await waitUntil('the handshake from the link-local peer', () => peer.lastHandshakeWallMs > 0, 15_000);
      const endpoint = peer.endpoint;
      assert.ok(endpoint?.address.startsWith('fe80::'), `endpoint ${endpoint?.address}`);
      assert.match(endpoint?.address ?? '', /%[\w.-]+$/, 'the endpoint carries its interface');
      const { stdout } = await run('ping', ['-c', '3', '-i', '0.2', '-W', '3', '10.42.0.2'], { timeout: 20_000 });
      assert.match(stdout, /3 packets transmitted, 3 received/);
      assert.equal(bind.stats().txBadEndpoint, 0);
      assert.equal(bind.stats().txErrors, 0);
    });
  });
}
