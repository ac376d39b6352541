// wg-quick's FwMark and the daemon's logs, in the lab: the gateway's UDP socket carries FwMark
// (`wg show`, `ss -e`, and an nftables counter matching the mark sees the tunnel's packets), and
// `wg set … fwmark` moves it; a client on the node:dgram bind says in its JSON log, not on stderr,
// that it cannot apply its FwMark; a peer that never answers is logged as such by its prefix; and
// nothing either daemon prints, nor a metrics scrape, holds a piece of a private or preshared key.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { privilegedSuite } from '@tunkit/tun-core/testing';
import { leakedSecrets, type SecretKeys } from '@tunkit/wireguard/testing';
import {
  createLab,
  type Daemon,
  keyPair,
  type Lab,
  nodeIn,
  startDaemon,
  TUNNEL,
  tunnelConfigs,
  writeConfigs,
} from './lab.js';

const { skip } = privilegedSuite('FwMark and the daemon logs in the lab');
const id = process.pid % 10000;
const names = { gateway: `tkm${id}`, client: `tkn${id}` };
const METRICS = '127.0.0.1:9587';
const MARK = 0x2a;

const keyBytes = (base64: string) => new Uint8Array(Buffer.from(base64, 'base64'));

/** The fwmark `ss -e` reports for the UDP socket on `port` in `where`, or undefined. */
function ssFwmark(lab: Lab, where: string, port: number): number | undefined {
  const mark = /fwmark:(0x[0-9a-f]+)/.exec(lab.exec(where, 'ss', ['-uaenH', `sport = :${port}`]))?.[1];
  return mark === undefined ? undefined : Number(mark);
}

describe('FwMark and the daemon logs', { skip }, () => {
  let lab: Lab;
  let gateway: Daemon;
  let client: Daemon;
  let secrets: SecretKeys[];

  before(async () => {
    lab = createLab();
    const presharedKey = keyPair().privateKey; // any 32 random bytes
    const silent = keyPair();
    const silentPsk = keyPair().privateKey;
    const keys = tunnelConfigs();
    // The gateway: FwMark, a PresharedKey with the client, and a peer at an address of the lab
    // where nothing answers (it initiates at once: PersistentKeepalive).
    const gatewayText = keys.gatewayText
      .replace('[Interface]\n', `[Interface]\nFwMark = ${MARK}\n`)
      .replace(/(\[Peer\]\n[^\n]+\n)/, `$1PresharedKey = ${presharedKey}\n`)
      .concat(
        `\n[Peer]\nPublicKey = ${silent.publicKey}\nPresharedKey = ${silentPsk}\nAllowedIPs = 10.99.0.77/32\nEndpoint = ${lab.addresses.server}:9\nPersistentKeepalive = 25\n`,
      );
    const clientText = keys.clientText
      .replace('[Interface]\n', '[Interface]\nFwMark = 0x2b\n')
      .replace(/(\[Peer\]\n[^\n]+\n)/, `$1PresharedKey = ${presharedKey}\n`);
    secrets = [
      {
        privateKey: keyBytes(keys.gateway.privateKey),
        presharedKey: keyBytes(presharedKey),
        peerPublicKey: new Uint8Array(32),
      },
      {
        privateKey: keyBytes(keys.client.privateKey),
        presharedKey: keyBytes(silentPsk),
        peerPublicKey: new Uint8Array(32),
      },
      { privateKey: keyBytes(silent.privateKey), presharedKey: keyBytes(silentPsk), peerPublicKey: new Uint8Array(32) },
    ];
    const files = writeConfigs({ [names.gateway]: gatewayText, [names.client]: clientText }, lab);
    gateway = startDaemon(lab, 'gateway', 'gateway', files.paths[names.gateway] as string, [
      '--metrics-listen',
      METRICS,
    ]);
    await gateway.waitForLog('gateway up');
    client = startDaemon(lab, 'client', 'headless', files.paths[names.client] as string, ['--udp-bind', 'dgram']);
    await client.waitForLog('headless up');
    await client.waitForLog('handshake completed');
  });

  after(async () => {
    await client?.stop('SIGTERM');
    await gateway?.stop('SIGTERM');
    lab?.destroy();
  });

  it('marks the gateway socket with FwMark: wg show, ss -e, and packets matched by mark', () => {
    assert.match(lab.exec('gateway', 'wg', ['show', names.gateway]), /fwmark: 0x2a/);
    assert.equal(ssFwmark(lab, 'gateway', TUNNEL.port), MARK);
    // An nftables counter of the gateway's own packets that carry the mark: the tunnel's UDP.
    const table = `tkmark${id}`;
    lab.exec('gateway', 'nft', [
      `add table inet ${table}; add chain inet ${table} out { type filter hook output priority 0; }; add rule inet ${table} out meta mark ${MARK} udp sport ${TUNNEL.port} counter`,
    ]);
    assert.match(lab.exec('client', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', TUNNEL.gateway]), / 0% packet loss/);
    const packets = Number(
      /counter packets (\d+)/.exec(lab.exec('gateway', 'nft', ['list', 'table', 'inet', table]))?.[1],
    );
    assert.ok(packets >= 3, `${packets} marked packets counted`);
  });

  it('moves the mark with wg set … fwmark, and clears it', () => {
    lab.exec('gateway', 'wg', ['set', names.gateway, 'fwmark', '0x33']);
    assert.match(lab.exec('gateway', 'wg', ['show', names.gateway]), /fwmark: 0x33/);
    assert.equal(ssFwmark(lab, 'gateway', TUNNEL.port), 0x33);
    lab.exec('gateway', 'wg', ['set', names.gateway, 'fwmark', 'off']);
    assert.doesNotMatch(lab.exec('gateway', 'wg', ['show', names.gateway]), /fwmark/);
    assert.equal(ssFwmark(lab, 'gateway', TUNNEL.port), undefined);
  });

  it('says in its JSON log, not on stderr, that the node:dgram bind cannot apply FwMark', () => {
    const line = client.logs.find((l) => /fwmark 43 is recorded .* not applied/.test(String(l.msg)));
    assert.ok(line, JSON.stringify(client.logs));
    assert.equal(line.level, 40); // warn
    assert.equal(line.component, 'device');
    assert.equal(client.stderr, '');
    assert.equal(
      ssFwmark(
        lab,
        'client',
        Number(/listening port: (\d+)/.exec(lab.exec('client', 'wg', ['show', names.client]))?.[1]),
      ),
      undefined,
    );
  });

  it('logs the peer that never answers, by prefix', async () => {
    const line = await gateway.waitForLog(/^handshake not answered/, 15_000);
    assert.equal(line.peer, '10.99.0.77/32');
    assert.equal(line.endpoint, `${lab.addresses.server}:9`);
    assert.equal(line.level, 40);
  });

  it('prints no piece of any private or preshared key: logs, stderr, metrics', () => {
    const metrics = nodeIn(
      lab,
      'gateway',
      `const r = await fetch('http://${METRICS}/metrics'); console.log(await r.text());`,
    );
    assert.match(metrics, /tunkit_peer_last_handshake_seconds\{peer="10\.99\.0\.77\/32"\} 0/);
    const output = [
      JSON.stringify(gateway.logs),
      gateway.stderr,
      JSON.stringify(client.logs),
      client.stderr,
      metrics,
    ].join('\n');
    for (const keys of secrets) assert.deepEqual(leakedSecrets(output, keys), []);
  });
});
