// --udp-bind: the gateway on node:dgram (--udp-bind dgram) and the client on the native Linux
// bind (the default) carry traffic between them, and each "up" line says which backend it runs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { privilegedSuite } from '@tunkit/tun-core/testing';
import { createLab, type Daemon, type Lab, startDaemon, TUNNEL, tunnelConfigs, writeConfigs } from './lab.js';

const { skip } = privilegedSuite('tunkit daemons with --udp-bind dgram and native');
const id = process.pid % 10000;
const names = { gateway: `tkbg${id}`, client: `tkbc${id}` };

describe('--udp-bind', { skip }, () => {
  let lab: Lab;
  let gateway: Daemon;
  let client: Daemon;

  before(async () => {
    lab = createLab();
    const keys = tunnelConfigs({ keepalive: 1 });
    const files = writeConfigs({ [names.gateway]: keys.gatewayText, [names.client]: keys.clientText }, lab);
    gateway = startDaemon(lab, 'gateway', 'gateway', files.paths[names.gateway] as string, ['--udp-bind', 'dgram']);
    await gateway.waitForLog('gateway up');
    client = startDaemon(lab, 'client', 'headless', files.paths[names.client] as string);
    await client.waitForLog('headless up');
  });

  after(async () => {
    await client?.stop('SIGTERM');
    await gateway?.stop('SIGTERM');
    lab?.destroy();
  });

  it('runs the backend asked for, says so, and the two backends talk', async () => {
    const up = (daemon: Daemon, role: string) => daemon.logs.find((l) => l.msg === `${role} up`);
    assert.equal(up(gateway, 'gateway')?.udpBind, 'dgram');
    assert.equal(up(gateway, 'gateway')?.udpBindFallback, undefined, 'dgram was asked for: no fallback to explain');
    assert.equal(up(client, 'headless')?.udpBind, 'native');
    await client.waitForLog('handshake completed');
    assert.match(lab.exec('client', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', TUNNEL.gateway]), / 0% packet loss/);
    assert.match(lab.exec('gateway', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', TUNNEL.client]), / 0% packet loss/);
  });
});
