// --udp-bind: the gateway on node:dgram (--udp-bind dgram) and the client on the native Linux
// bind (the default) carry traffic between them, and each "up" line says which backend it runs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { privilegedSuite } from '@tunkit/tun-core/testing';
import { createLab, type Lab, startTunnel, TUNNEL } from './lab.js';

const { skip } = privilegedSuite('tunkit daemons with --udp-bind dgram and native');
const id = process.pid % 10000;
const names = { gateway: `tkbg${id}`, client: `tkbc${id}` };

describe('--udp-bind', { skip }, () => {
  let lab: Lab;
  let daemons: Awaited<ReturnType<typeof startTunnel>> | undefined;

  before(async () => {
    lab = createLab();
    daemons = await startTunnel(lab, names, { gateway: ['--udp-bind', 'dgram'] });
  });

  after(async () => {
    await daemons?.stop();
    lab?.destroy();
  });

  it('runs the backend asked for, says so, and the two backends talk', async () => {
    const { gateway, client } = daemons as NonNullable<typeof daemons>;
    const gatewayUp = gateway.logs.find((l) => l.msg === 'gateway up');
    assert.equal(gatewayUp?.udpBind, 'dgram');
    assert.equal(gatewayUp?.udpBindFallback, undefined, 'dgram was asked for: no fallback to explain');
    assert.equal(client.logs.find((l) => l.msg === 'headless up')?.udpBind, 'native');
    await client.waitForLog('handshake completed');
    assert.match(lab.exec('client', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', TUNNEL.gateway]), / 0% packet loss/);
    assert.match(lab.exec('gateway', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', TUNNEL.client]), / 0% packet loss/);
  });
});
