// SIGHUP in the lab: a peer added and removed on the gateway (wg show, routes and unreachable
// twins follow; the client's session survives: same handshake time, a ping through the tunnel
// loses nothing); a broken file changes nothing and says why; a changed Address is "restart
// needed" and left as it runs; the client's new ListenPort moves its socket and its source-port
// rule, and the gateway sees it roam there.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { privilegedSuite } from '@tunkit/tun-core/testing';
import { formatKey, generatePrivateKey, publicKeyFrom } from '@tunkit/wireguard';
import { createLab, type Daemon, type Lab, startDaemon, TUNNEL, tunnelConfigs, waitFor, writeConfigs } from './lab.js';

const { skip } = privilegedSuite('tunkit daemons: SIGHUP reloads');
const id = process.pid % 10000;
const names = { gateway: `tkhg${id}x`, client: `tkhc${id}x` };

describe('SIGHUP reloads', { skip, timeout: 180_000 }, () => {
  let lab: Lab;
  let keys: ReturnType<typeof tunnelConfigs>;
  let paths: Record<string, string>;
  let gateway: Daemon;
  let client: Daemon;
  const peerB = formatKey(publicKeyFrom(generatePrivateKey()));

  /** Rewrites a config file (mode 0600, as the daemon wants it). */
  const rewrite = (name: string, text: string) => writeFileSync(paths[name] as string, text, { mode: 0o600 });
  /** Sends SIGHUP and resolves the reload's last log line ('reloaded', or why not). */
  const hangUp = async (
    daemon: Daemon,
    until: string | RegExp = /^reload(ed|: the file was not applied|: not applied)/,
  ) => {
    const from = daemon.logs.length;
    daemon.child.kill('SIGHUP');
    return daemon.waitForLog(until, 10_000, from);
  };
  const wg = (where: string, name: string, what: string) => lab.exec(where, 'wg', ['show', name, what]).trim();
  /** "<client public key>\t<unix time of its last handshake>", from the gateway's wg show. */
  const clientHandshake = () =>
    wg('gateway', names.gateway, 'latest-handshakes')
      .split('\n')
      .find((l) => l.startsWith(keys.client.publicKey));

  before(async () => {
    lab = createLab();
    keys = tunnelConfigs({ keepalive: 1 });
    paths = writeConfigs({ [names.gateway]: keys.gatewayText, [names.client]: keys.clientText }, lab).paths;
    gateway = startDaemon(lab, 'gateway', 'gateway', paths[names.gateway] as string);
    await gateway.waitForLog('gateway up');
    client = startDaemon(lab, 'client', 'headless', paths[names.client] as string);
    await gateway.waitForLog('handshake completed');
  });

  after(async () => {
    await client?.stop();
    await gateway?.stop();
    lab?.destroy();
  });

  it('adds then removes a peer: wg show and the routes follow, the client’s session survives, a ping loses nothing', async () => {
    const handshake = clientHandshake();
    assert.match(handshake ?? '', new RegExp(`^${keys.client.publicKey.replaceAll('+', '\\+')}\\t[1-9]\\d+$`));
    const ping = lab.spawn('client', 'ping', ['-c', '40', '-i', '0.1', '-W', '1', TUNNEL.gateway], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pinged = '';
    ping.stdout?.on('data', (d) => {
      pinged += d;
    });
    const pingDone = new Promise((resolve) => ping.once('exit', resolve));

    const withB = `${keys.gatewayText}\n[Peer]\nPublicKey = ${peerB}\nAllowedIPs = 10.99.0.3/32, 10.77.0.0/24\n`;
    rewrite(names.gateway, withB);
    const added = await hangUp(gateway);
    assert.equal(added.msg, 'reloaded', JSON.stringify(added));
    assert.deepEqual([added.added, added.removed, added.changed, added.routesAdded], [1, 0, 0, 2]);
    assert.deepEqual(wg('gateway', names.gateway, 'peers').split('\n').sort(), [keys.client.publicKey, peerB].sort());
    assert.match(
      wg('gateway', names.gateway, 'allowed-ips'),
      new RegExp(`${peerB.replaceAll('+', '\\+')}\\t10\\.99\\.0\\.3/32 10\\.77\\.0\\.0/24`),
    );
    const table = () => lab.exec('gateway', 'ip', ['route', 'show', 'table', '51820']);
    assert.match(table(), new RegExp(`^10\\.77\\.0\\.0/24 dev ${names.gateway} `, 'm'));
    assert.match(table(), /^unreachable 10\.77\.0\.0\/24 /m);
    assert.equal(clientHandshake(), handshake, 'the unchanged peer kept its session');

    rewrite(names.gateway, keys.gatewayText);
    const removed = await hangUp(gateway);
    assert.equal(removed.msg, 'reloaded', JSON.stringify(removed));
    assert.deepEqual([removed.added, removed.removed, removed.routesRemoved], [0, 1, 2]);
    assert.deepEqual(wg('gateway', names.gateway, 'peers').split('\n'), [keys.client.publicKey]);
    assert.doesNotMatch(table(), /10\.77\.0\.0|10\.99\.0\.3/);
    assert.equal(clientHandshake(), handshake, 'the unchanged peer kept its session');

    await pingDone;
    assert.match(pinged, /40 packets transmitted, 40 received, 0% packet loss/, pinged);
  });

  it('a broken file changes nothing and says why in one error line', async () => {
    const handshake = clientHandshake();
    const peersBefore = wg('gateway', names.gateway, 'dump');
    rewrite(names.gateway, keys.gatewayText.replace('ListenPort = 51820', 'ListenPort = many'));
    try {
      const line = await hangUp(gateway);
      assert.equal(line.msg, 'reload: the file was not applied, nothing changed');
      assert.equal(line.level, 50);
      assert.match(String(line.error), /ListenPort/);
      assert.ok(!String(line.error).includes(keys.gateway.privateKey), 'no key in the line');
      const dump = wg('gateway', names.gateway, 'dump');
      // Same peers, keys, endpoints and allowed IPs (the transfer counters move on).
      const stable = (text: string) => text.split('\n').map((l) => l.split('\t').slice(0, 4).join('\t'));
      assert.deepEqual(stable(dump), stable(peersBefore));
      assert.equal(clientHandshake(), handshake);
      assert.match(lab.exec('client', 'ping', ['-c', '2', '-i', '0.2', '-W', '2', TUNNEL.gateway]), / 0% packet loss/);
    } finally {
      rewrite(names.gateway, keys.gatewayText);
    }
  });

  it('a changed Address is "restart needed", and the address stays as it runs', async () => {
    rewrite(names.gateway, keys.gatewayText.replace(`${TUNNEL.gateway}/24`, '10.98.0.1/24'));
    try {
      const from = gateway.logs.length;
      const line = await hangUp(gateway);
      assert.equal(line.msg, 'reloaded');
      const warning = gateway.logs.slice(from).find((l) => l.level === 40 && /restart needed/.test(String(l.msg)));
      assert.deepEqual(warning?.restartNeeded, ['Address'], JSON.stringify(gateway.logs.slice(from)));
      const addresses = lab.exec('gateway', 'ip', ['-4', 'addr', 'show', names.gateway]);
      assert.match(addresses, new RegExp(`inet ${TUNNEL.gateway.replaceAll('.', '\\.')}/24`));
      assert.doesNotMatch(addresses, /10\.98\.0\.1/);
    } finally {
      rewrite(names.gateway, keys.gatewayText);
      await hangUp(gateway);
    }
  });

  it('the client’s new ListenPort moves its socket and its source-port rule; the gateway sees it roam there', async () => {
    const port = 52_000 + (id % 1000);
    rewrite(names.client, keys.clientText.replace('[Interface]\n', `[Interface]\nListenPort = ${port}\n`));
    const line = await hangUp(client);
    assert.equal(line.msg, 'reloaded', JSON.stringify(line));
    assert.equal(line.listenPort, port);
    assert.equal(wg('client', names.client, 'listen-port'), String(port));
    assert.match(lab.exec('client', 'ip', ['rule']), new RegExp(`ipproto udp sport ${port} lookup main`));
    await waitFor(
      'the gateway to see the client at its new port',
      () => wg('gateway', names.gateway, 'endpoints').endsWith(`10.88.1.2:${port}`),
      10_000,
      100,
    );
    assert.match(lab.exec('client', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', TUNNEL.gateway]), / 0% packet loss/);
  });
});
