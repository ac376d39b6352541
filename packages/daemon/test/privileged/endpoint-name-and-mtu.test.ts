// wg-quick parity in the lab: an endpoint host name that resolves only after 3 s (the client's
// namespace gets its own /etc/hosts and an unreachable resolver through /etc/netns/<ns>/, which
// `ip netns exec` bind-mounts over /etc) is retried until it does, each failure logged; when it
// then points at the wrong address, the failing handshakes make the client look it up again and
// reach the gateway; and without MTU = the tunnel MTU is the endpoint route's MTU (a lab route
// with mtu 1400) minus 80, while the gateway, with no endpoint and no default route, takes 1420;
// SIGHUP with the file unchanged looks the name up again (the endpoint follows it at once) and
// asks for no restart (the derived MTU is not the file's MTU =).
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { privilegedSuite } from '@tunkit/tun-core/testing';
import { createLab, type Daemon, type Lab, startDaemon, TUNNEL, tunnelConfigs, writeConfigs } from './lab.js';

const { skip } = privilegedSuite('endpoint host names and the derived MTU in the lab');
const id = process.pid % 10000;
const names = { gateway: `tkh${id}`, client: `tki${id}` };
const HOST = `gw${id}.tunkit.test`;
const HOSTS_BASE = '127.0.0.1 localhost\n';

describe('endpoint host names and the MTU from the routes', { skip }, () => {
  let lab: Lab;
  let gateway: Daemon;
  let client: Daemon;
  let hostsFile: string;
  let startedAt: number;

  before(async () => {
    lab = createLab();
    // The client's own /etc/hosts (without the name yet) and a resolver nobody answers at.
    const etc = `/etc/netns/${lab.ns.client}`;
    mkdirSync(etc, { recursive: true });
    lab.onDestroy(() => rmSync(etc, { recursive: true, force: true }));
    hostsFile = `${etc}/hosts`;
    writeFileSync(hostsFile, HOSTS_BASE);
    writeFileSync(`${etc}/resolv.conf`, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
    // The path towards the gateway (10.88.1.0/25: its address and the wrong one) has an MTU of 1400.
    lab.exec('client', 'ip', ['route', 'add', '10.88.1.0/25', 'dev', 'c0', 'mtu', '1400']);
    const keys = tunnelConfigs();
    const clientText = keys.clientText.replace(/Endpoint = [^\n]+/, `Endpoint = ${HOST}:${TUNNEL.port}`);
    assert.doesNotMatch(clientText, /MTU/);
    const files = writeConfigs({ [names.gateway]: keys.gatewayText, [names.client]: clientText }, lab);
    gateway = startDaemon(lab, 'gateway', 'gateway', files.paths[names.gateway] as string);
    await gateway.waitForLog('gateway up');
    startedAt = Date.now();
    client = startDaemon(lab, 'client', 'headless', files.paths[names.client] as string);
    // 3 s later the name appears, at an address of the lab where nothing answers.
    setTimeout(() => writeFileSync(hostsFile, `${HOSTS_BASE}10.88.1.99 ${HOST}\n`), 3_000);
    await client.waitForLog('headless up', 30_000);
  });

  after(async () => {
    await client?.stop('SIGTERM');
    await gateway?.stop('SIGTERM');
    lab?.destroy();
  });

  it('retries the name until it resolves, logging each failure', () => {
    const failures = client.logs.filter((l) => /^cannot resolve Endpoint host .* yet/.test(String(l.msg)));
    assert.ok(failures.length >= 2, JSON.stringify(client.logs));
    assert.equal(failures[0]?.host, HOST);
    assert.equal(failures[0]?.peer, '10.99.0.0/24');
    assert.equal(failures[0]?.code, 'EAI_AGAIN');
    assert.ok(Date.now() - startedAt >= 3_000);
  });

  it("derives the MTU from the endpoint's route (1400 - 80), and 1420 without one", () => {
    const line = client.logs.find((l) => l.msg === 'MTU from the routes (MTU = not set)');
    assert.equal(line?.mtu, 1320);
    assert.equal(line?.from, `route to 10.88.1.99`);
    assert.match(lab.exec('client', 'ip', ['link', 'show', names.client]), / mtu 1320 /);
    assert.match(lab.exec('gateway', 'ip', ['link', 'show', names.gateway]), / mtu 1420 /);
  });

  it('looks the name up again when handshakes keep failing, and reaches the gateway', async () => {
    writeFileSync(hostsFile, `${HOSTS_BASE}${lab.addresses.gatewayClientSide} ${HOST}\n`);
    const moved = await client.waitForLog('endpoint host name resolved again: handshakes were failing', 30_000);
    assert.equal(moved.endpoint, `${lab.addresses.gatewayClientSide}:${TUNNEL.port}`);
    assert.equal(moved.was, `10.88.1.99:${TUNNEL.port}`);
    await client.waitForLog('handshake completed', 15_000);
    assert.match(lab.exec('client', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', TUNNEL.gateway]), / 0% packet loss/);
  });

  it('on SIGHUP, the file unchanged, looks the name up again and moves the endpoint, with no restart needed', async () => {
    const endpoint = () => lab.exec('client', 'wg', ['show', names.client, 'endpoints']).trim().split('\t')[1];
    const hangUp = async () => {
      const from = client.logs.length;
      client.child.kill('SIGHUP');
      const last = await client.waitForLog(/^reload(ed|: the file was not applied|: not applied)/, 15_000, from);
      assert.equal(last.msg, 'reloaded', JSON.stringify(client.logs.slice(from)));
      const restart = client.logs.slice(from).filter((l) => /restart needed/.test(String(l.msg)));
      assert.deepEqual(restart, [], 'an unchanged file without MTU = needs no restart');
    };
    writeFileSync(hostsFile, `${HOSTS_BASE}10.88.1.98 ${HOST}\n`);
    await hangUp();
    assert.equal(endpoint(), `10.88.1.98:${TUNNEL.port}`);
    writeFileSync(hostsFile, `${HOSTS_BASE}${lab.addresses.gatewayClientSide} ${HOST}\n`);
    await hangUp();
    assert.equal(endpoint(), `${lab.addresses.gatewayClientSide}:${TUNNEL.port}`);
    assert.match(lab.exec('client', 'ip', ['link', 'show', names.client]), / mtu 1320 /);
    assert.match(lab.exec('client', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', TUNNEL.gateway]), / 0% packet loss/);
  });
});
