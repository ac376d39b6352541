// The client's own encrypted UDP never enters its tunnel, whatever the AllowedIPs: here they cover
// the gateway's endpoint more precisely than the real network's route to it (0.0.0.0/1 and
// 128.0.0.0/1 cover everything as a default route would; 10.88.1.0/25 beats the on-link /24 the
// endpoint 10.88.1.1 is on), and that stays true after `wg set <name> listen-port N`. Then the
// gateway moves to a new address (same keys) and the client follows it (roaming).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { privilegedSuite } from '@tunkit/tun-core/testing';
import { createLab, type Daemon, type Lab, startDaemon, TUNNEL, tunnelConfigs, waitFor, writeConfigs } from './lab.js';

const { skip } = privilegedSuite('tunkit daemons: AllowedIPs covering the endpoint, listen-port change, gateway move');
const id = process.pid % 10000;
const names = { gateway: `tklg${id}`, client: `tklc${id}`, moved: `tklm${id}` };
const CLIENT_PORT = 51821;
const NEW_CLIENT_PORT = 51999;
const MOVED_GATEWAY = '10.88.1.3';

function pings(lab: Lab, where: string, address: string): boolean {
  try {
    lab.exec(where, 'ping', ['-c', '1', '-W', '1', address]);
    return true;
  } catch {
    return false;
  }
}

/** `ip -j route get <address> [extra]` in a namespace: the device the kernel picks. */
function deviceFor(lab: Lab, where: string, address: string, extra: string[] = []): string {
  return JSON.parse(lab.exec(where, 'ip', ['-j', 'route', 'get', address, ...extra]))[0].dev;
}

describe('tunkit-headless with AllowedIPs covering its endpoint, and a gateway that moves', { skip }, () => {
  let lab: Lab;
  let files: ReturnType<typeof writeConfigs>;
  let gateway: Daemon;
  let client: Daemon;

  before(async () => {
    lab = createLab();
    const keys = tunnelConfigs({
      keepalive: 1,
      clientAllowedIps: ['0.0.0.0/1', '128.0.0.0/1', '10.88.1.0/25', '10.99.0.0/24'],
    });
    const clientText = keys.clientText.replace('[Interface]\n', `[Interface]\nListenPort = ${CLIENT_PORT}\n`);
    // The moved gateway knows where the client is, so it can initiate (WireGuard roaming: the
    // client takes the latest authenticated source as the gateway's endpoint).
    const movedText = keys.gatewayText.replace(
      `AllowedIPs = ${TUNNEL.client}/32`,
      `Endpoint = ${lab.addresses.client}:${CLIENT_PORT}\nAllowedIPs = ${TUNNEL.client}/32`,
    );
    assert.notEqual(movedText, keys.gatewayText);
    files = writeConfigs(
      { [names.gateway]: keys.gatewayText, [names.client]: clientText, [names.moved]: movedText },
      lab,
    );
    gateway = startDaemon(lab, 'gateway', 'gateway', files.paths[names.gateway] as string);
    await gateway.waitForLog('gateway up');
    client = startDaemon(lab, 'client', 'headless', files.paths[names.client] as string);
    await client.waitForLog('headless up');
  });

  after(async () => {
    await client?.stop('SIGTERM');
    await gateway?.stop('SIGTERM');
    lab?.destroy();
  });

  it('covers the endpoint with a tunnel route, yet its own UDP leaves through the veth: handshake and ping', async () => {
    const endpoint = lab.addresses.gatewayClientSide as string;
    assert.equal(deviceFor(lab, 'client', endpoint), names.client, 'ordinary traffic to the endpoint: the tunnel');
    assert.equal(deviceFor(lab, 'client', lab.addresses.server as string), names.client);
    assert.equal(
      deviceFor(lab, 'client', endpoint, ['ipproto', 'udp', 'sport', String(CLIENT_PORT)]),
      'c0',
      'the daemon’s own UDP: the real network',
    );
    await client.waitForLog('handshake completed', 10_000);
    assert.match(lab.exec('client', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', TUNNEL.gateway]), / 0% packet loss/);
    assert.match(
      lab.exec('client', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', lab.addresses.server as string]),
      / 0% packet loss/,
      'the server, through the tunnel and the gateway',
    );
    assert.match(lab.exec('client', 'ping', ['-c', '2', '-i', '0.2', '-W', '2', endpoint]), / 0% packet loss/);
  });

  it('moves the source-port rule with `wg set <name> listen-port`, so traffic keeps flowing', async () => {
    lab.exec('client', 'wg', ['set', names.client, 'listen-port', String(NEW_CLIENT_PORT)]);
    assert.equal(lab.exec('client', 'wg', ['show', names.client, 'listen-port']).trim(), String(NEW_CLIENT_PORT));
    const rules = lab.exec('client', 'ip', ['rule']);
    assert.match(rules, new RegExp(`ipproto udp sport ${NEW_CLIENT_PORT} lookup main`));
    assert.doesNotMatch(rules, new RegExp(`sport ${CLIENT_PORT}\\b`));
    assert.equal(
      deviceFor(lab, 'client', lab.addresses.gatewayClientSide as string, [
        'ipproto',
        'udp',
        'sport',
        String(NEW_CLIENT_PORT),
      ]),
      'c0',
    );
    await waitFor('a ping through the tunnel from the new port', () => pings(lab, 'client', TUNNEL.gateway), 8000, 100);
    await waitFor(
      'the gateway to see the client at its new port',
      () => lab.exec('gateway', 'wg', ['show', names.gateway, 'endpoints']).includes(`:${NEW_CLIENT_PORT}`),
      5000,
    );
    // Back to the configured port, for the gateway that moves (it initiates to that port).
    lab.exec('client', 'wg', ['set', names.client, 'listen-port', String(CLIENT_PORT)]);
    assert.doesNotMatch(lab.exec('client', 'ip', ['rule']), new RegExp(`sport ${NEW_CLIENT_PORT}\\b`));
    await waitFor('a ping after moving back', () => pings(lab, 'client', TUNNEL.gateway), 8000, 100);
  });

  it('follows the gateway when it restarts on another address with the same keys', async () => {
    assert.equal(await gateway.stop('SIGTERM'), 0);
    lab.exec('gateway', 'ip', ['addr', 'del', `${lab.addresses.gatewayClientSide}/24`, 'dev', 'g0']);
    lab.exec('gateway', 'ip', ['addr', 'add', `${MOVED_GATEWAY}/24`, 'dev', 'g0']);
    assert.ok(!pings(lab, 'client', lab.addresses.gatewayClientSide as string), 'the old address is gone');
    gateway = startDaemon(lab, 'gateway', 'gateway', files.paths[names.moved] as string, ['--name', names.gateway]);
    await gateway.waitForLog('gateway up');
    const started = Date.now();
    // The moved gateway has something to send (a ping to the client): it initiates from its new address.
    await waitFor('the moved gateway to reach the client', () => pings(lab, 'gateway', TUNNEL.client), 15_000, 200);
    await waitFor('the client to reach the moved gateway', () => pings(lab, 'client', TUNNEL.gateway), 5000, 100);
    console.log(`# the client followed the moved gateway in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(
      lab.exec('client', 'wg', ['show', names.client, 'endpoints']).trim().split('\t')[1],
      `${MOVED_GATEWAY}:${TUNNEL.port}`,
      'the client roamed to the new endpoint',
    );
    assert.match(
      lab.exec('client', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', lab.addresses.server as string]),
      / 0% packet loss/,
    );
  });

  it('leaves no rule or route behind on SIGTERM', async () => {
    assert.equal(await client.stop('SIGTERM'), 0);
    const rules = lab.exec('client', 'ip', ['rule']);
    assert.doesNotMatch(rules, /sport|suppress_prefixlength|lookup 5182\d/);
    assert.equal(lab.exec('client', 'ip', ['route', 'show', 'table', '51820']).trim(), '');
  });
});
