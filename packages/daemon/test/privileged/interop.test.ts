// The daemons against the reference implementation: tunkit-headless with a wireguard-go gateway,
// and a wireguard-go client with tunkit-gateway. wireguard-go is configured with `wg setconf`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { privilegedSuite } from '@tunkit/tun-core/testing';
import {
  createLab,
  type Daemon,
  type Lab,
  nodeIn,
  nodeServer,
  startDaemon,
  TUNNEL,
  tunnelConfigs,
  UDP_CLIENT,
  UDP_ECHO,
  waitFor,
  writeConfigs,
} from './lab.js';

const haveTools = ['wireguard-go', 'wg'].every((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0);
const { skip } = privilegedSuite(
  'tunkit daemons with wireguard-go',
  haveTools ? undefined : 'wireguard-go and wg are not installed (apt-get install wireguard-go wireguard-tools)',
);
const id = process.pid % 10000;

/** The wg(8) form of a wg-quick text: without Address= and the other wg-quick-only keys. */
function wgForm(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^(Address|DNS|MTU|Table)\s*=/.test(line))
    .join('\n');
}

/** Starts wireguard-go as `name` in a lab namespace and applies `config` with wg setconf. */
async function startWireguardGo(lab: Lab, where: string, name: string, configPath: string, address: string[]) {
  const child = lab.spawn(where, 'wireguard-go', ['-f', name], {
    env: { ...process.env, WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: 'error' },
    stdio: 'ignore',
  });
  await waitFor(`wireguard-go ${name}`, () => {
    try {
      lab.exec(where, 'wg', ['show', name]);
      return true;
    } catch {
      return false;
    }
  });
  lab.exec(where, 'wg', ['setconf', name, configPath]);
  for (const a of address) lab.exec(where, 'ip', ['addr', 'add', a, 'dev', name]);
  lab.exec(where, 'ip', ['link', 'set', name, 'up']);
  return () => {
    child.kill('SIGKILL');
    rmSync(`/var/run/wireguard/${name}.sock`, { force: true });
  };
}

describe('tunkit daemons with wireguard-go', { skip }, () => {
  let lab: Lab;
  let files: ReturnType<typeof writeConfigs>;
  const names = {
    tunkitClient: `tkic${id}`,
    goGateway: `wgig${id}`,
    tunkitGateway: `tkig${id}`,
    goClient: `wgic${id}`,
  };
  let keys: ReturnType<typeof tunnelConfigs>;

  before(() => {
    lab = createLab();
    keys = tunnelConfigs({ clientAllowedIps: ['10.99.0.0/24', 'fd99::/64'] });
    files = writeConfigs(
      {
        [names.tunkitClient]: keys.clientText,
        [names.goGateway]: wgForm(keys.gatewayText),
        [names.tunkitGateway]: keys.gatewayText,
        [names.goClient]: wgForm(keys.clientText),
      },
      lab,
    );
  });

  after(() => {
    lab?.destroy(); // also removes the config files
    for (const name of [names.goGateway, names.goClient]) rmSync(`/var/run/wireguard/${name}.sock`, { force: true });
  });

  it('tunkit-headless ↔ wireguard-go gateway: handshake, ping both ways, UDP, IPv6', async () => {
    const stopGo = await startWireguardGo(lab, 'gateway', names.goGateway, files.paths[names.goGateway] as string, [
      `${TUNNEL.gateway}/24`,
      `${TUNNEL.gateway6}/64`,
    ]);
    let client: Daemon | undefined;
    try {
      client = startDaemon(lab, 'client', 'headless', files.paths[names.tunkitClient] as string);
      await client.waitForLog('handshake completed');
      assert.match(lab.exec('client', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', TUNNEL.gateway]), / 0% packet loss/);
      assert.match(lab.exec('gateway', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', TUNNEL.client]), / 0% packet loss/);
      assert.match(lab.exec('client', 'ping', ['-c', '2', '-i', '0.2', '-W', '2', TUNNEL.gateway6]), / 0% packet loss/);
      const echo = await nodeServer(lab, 'gateway', UDP_ECHO(TUNNEL.gateway, 5004));
      try {
        assert.equal(JSON.parse(nodeIn(lab, 'client', UDP_CLIENT(TUNNEL.gateway, 5004, 100, 1300))).received, 100);
      } finally {
        echo.kill();
      }
      assert.match(lab.exec('gateway', 'wg', ['show', names.goGateway, 'latest-handshakes']), /\t[1-9]\d+/);
      assert.equal(await client.stop('SIGTERM'), 0);
    } finally {
      await client?.stop('SIGTERM');
      stopGo();
    }
  });

  it('wireguard-go client ↔ tunkit-gateway: handshake, ping both ways, UDP', async () => {
    const gateway = startDaemon(lab, 'gateway', 'gateway', files.paths[names.tunkitGateway] as string);
    let stopGo: (() => void) | undefined;
    try {
      await gateway.waitForLog('gateway up');
      stopGo = await startWireguardGo(lab, 'client', names.goClient, files.paths[names.goClient] as string, [
        `${TUNNEL.client}/24`,
        `${TUNNEL.client6}/64`,
      ]);
      // wireguard-go starts its handshake with the first packet (PersistentKeepalive too).
      await gateway.waitForLog('handshake completed');
      assert.match(lab.exec('client', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', TUNNEL.gateway]), / 0% packet loss/);
      assert.match(lab.exec('gateway', 'ping', ['-c', '3', '-i', '0.2', '-W', '2', TUNNEL.client]), / 0% packet loss/);
      const echo = await nodeServer(lab, 'gateway', UDP_ECHO(TUNNEL.gateway, 5005));
      try {
        assert.equal(JSON.parse(nodeIn(lab, 'client', UDP_CLIENT(TUNNEL.gateway, 5005, 100, 1300))).received, 100);
      } finally {
        echo.kill();
      }
      assert.equal(await gateway.stop('SIGTERM'), 0);
    } finally {
      await gateway.stop('SIGTERM');
      stopGo?.();
    }
  });
});
