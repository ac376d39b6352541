// planReload/applyReload: the difference between what runs and the file, as wg syncconf applies
// it, on a real Device in memory: unchanged peers (and their sessions) untouched, removed ones
// gone, new ones added, changed ones set; what needs a restart is named and left alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryTun } from '@tunkit/tun-core';
import { Device, formatKey, generatePrivateKey, MemoryNetwork, parseWgQuick, publicKeyFrom } from '@tunkit/wireguard';
import { createLogger } from './logger.js';
import { applyReload, planReload, reload, runningState } from './reload.js';
import { type DaemonSettings, resolveSettings } from './settings.js';
import type { RunningDaemon } from './start.js';

const key = () => formatKey(generatePrivateKey());
const pub = () => formatKey(publicKeyFrom(generatePrivateKey()));
const [own, a, b, c] = [key(), pub(), pub(), pub()];

const settingsOf = (text: string, values: Record<string, string> = {}): DaemonSettings =>
  resolveSettings('gateway', values, '/etc/wireguard/wg0.conf', parseWgQuick(text), { cpus: 2 });

const file = (iface: string, peers: string[]) => `[Interface]\nPrivateKey = ${own}\n${iface}\n${peers.join('\n')}`;
const peer = (publicKey: string, lines: string) => `[Peer]\nPublicKey = ${publicKey}\n${lines}\n`;

/** A Device running `settings`' peers, as start() sets it up. */
function running(settings: DaemonSettings) {
  const [tun] = MemoryTun.pair({ mtu: 1420 });
  const device = new Device({
    tun,
    bind: new MemoryNetwork().bind('10.0.0.1', 51820),
    privateKey: settings.config.interface.privateKey,
  });
  for (const p of settings.config.peers) {
    device.addPeer(
      {
        publicKey: p.publicKey,
        presharedKey: p.presharedKey,
        endpoint: p.endpoint ? { address: p.endpoint.host, port: p.endpoint.port } : undefined,
        persistentKeepalive: p.persistentKeepalive,
      },
      p.allowedIps,
    );
  }
  return device;
}

describe('planReload', () => {
  const before = settingsOf(
    file('Address = 10.8.0.1/24\nListenPort = 51820', [
      peer(a, 'AllowedIPs = 10.8.0.2/32'),
      peer(b, 'AllowedIPs = 10.8.0.3/32, 10.77.0.0/24\nEndpoint = 192.0.2.3:51820\nPersistentKeepalive = 25'),
    ]),
  );

  it('is empty when nothing changed (unchanged peers are not even named)', () => {
    const device = running(before);
    const plan = planReload(before, before, runningState({ device }));
    assert.deepEqual(plan, {
      restartNeeded: [],
      listenPort: '',
      uapi: '',
      added: 0,
      removed: 0,
      changed: 0,
      routes: ['10.8.0.2/32', '10.8.0.3/32', '10.77.0.0/24'],
    });
  });

  it('removes, adds and changes peers as UAPI set lines; the unchanged one is not named', async () => {
    const next = settingsOf(
      file('Address = 10.8.0.1/24\nListenPort = 51820', [
        peer(a, 'AllowedIPs = 10.8.0.2/32'),
        peer(c, 'AllowedIPs = 10.8.0.4/32, fd08::4/128\nEndpoint = [fd00::4]:51000'),
      ]),
    );
    const device = running(before);
    const plan = planReload(before, next, runningState({ device }));
    const hex = (k: string) => Buffer.from(k, 'base64').toString('hex');
    assert.deepEqual(plan.uapi.split('\n'), [
      `public_key=${hex(b)}`,
      'remove=true',
      `public_key=${hex(c)}`,
      'endpoint=[fd00::4]:51000',
      'replace_allowed_ips=true',
      'allowed_ip=10.8.0.4/32',
      'allowed_ip=fd08::4/128',
      '',
    ]);
    assert.equal(plan.uapi.includes(hex(a)), false, 'the unchanged peer is left alone');
    assert.deepEqual([plan.added, plan.removed, plan.changed], [1, 1, 0]);
    assert.deepEqual(plan.routes, ['10.8.0.2/32', '10.8.0.4/32', 'fd08::4/128']);
    assert.equal(plan.uapi.includes(hex(own)), false, 'the same private key is not sent');
  });

  it('sets a changed peer’s allowed IPs, keepalive and preshared key; its endpoint only when the file’s changed', () => {
    const psk = key();
    const next = settingsOf(
      file('Address = 10.8.0.1/24\nListenPort = 51820', [
        peer(a, `AllowedIPs = 10.8.0.2/32\nPresharedKey = ${psk}`),
        peer(b, 'AllowedIPs = 10.8.0.3/32\nEndpoint = 192.0.2.3:51820\nPersistentKeepalive = 10'),
      ]),
    );
    const device = running(before);
    // b roamed: its running endpoint is not the file's, and the file did not change it: it stays.
    const roamed = device.engine.peer(Buffer.from(b, 'base64'));
    assert.ok(roamed);
    roamed.endpoint = { address: '198.51.100.7', port: 40000 };
    const plan = planReload(before, next, runningState({ device }));
    const hex = (k: string) => Buffer.from(k, 'base64').toString('hex');
    assert.deepEqual(plan.uapi.split('\n'), [
      `public_key=${hex(a)}`,
      `preshared_key=${hex(psk)}`,
      `public_key=${hex(b)}`,
      'persistent_keepalive_interval=10',
      'replace_allowed_ips=true',
      'allowed_ip=10.8.0.3/32',
      '',
    ]);
    assert.deepEqual([plan.added, plan.removed, plan.changed], [0, 0, 2]);
    const moved = settingsOf(
      file('Address = 10.8.0.1/24\nListenPort = 51820', [
        peer(a, 'AllowedIPs = 10.8.0.2/32'),
        peer(b, 'AllowedIPs = 10.8.0.3/32, 10.77.0.0/24\nEndpoint = 192.0.2.99:51820\nPersistentKeepalive = 25'),
      ]),
    );
    assert.deepEqual(planReload(before, moved, runningState({ device })).uapi.split('\n'), [
      `public_key=${hex(b)}`,
      'endpoint=192.0.2.99:51820',
      '',
    ]);
  });

  it('names what needs a restart (Address, MTU, Table, DNS, hooks) and keeps the routes on the running Address and Table', () => {
    const next = settingsOf(
      file('Address = 10.9.0.1/24\nListenPort = 51820\nMTU = 1380\nTable = 1234\nDNS = 10.9.0.53\nPostUp = true', [
        peer(a, 'AllowedIPs = 10.8.0.2/32'),
        peer(b, 'AllowedIPs = 10.8.0.3/32, 10.77.0.0/24\nEndpoint = 192.0.2.3:51820\nPersistentKeepalive = 25'),
      ]),
    );
    const device = running(before);
    const plan = planReload(before, next, runningState({ device }));
    assert.deepEqual(plan.restartNeeded, ['Address', 'MTU', 'Table', 'DNS', 'PostUp']);
    assert.equal(plan.uapi, '');
    assert.deepEqual(plan.routes, ['10.8.0.2/32', '10.8.0.3/32', '10.77.0.0/24']);
  });

  it('leaves a peer’s endpoint as it runs when its name did not resolve (the peer comes without one)', () => {
    const device = running(before);
    const unresolved = settingsOf(
      file('Address = 10.8.0.1/24\nListenPort = 51820', [
        peer(a, 'AllowedIPs = 10.8.0.2/32'),
        peer(b, 'AllowedIPs = 10.8.0.3/32, 10.77.0.0/24\nPersistentKeepalive = 25'),
      ]),
    );
    assert.equal(planReload(before, unresolved, runningState({ device })).uapi, '');
  });

  it('needs no restart for an MTU derived at start (no MTU = in the file), nor for an unchanged MTU =', () => {
    const device = running(before);
    // start() runs with the derived MTU in settings.mtu; the file read again has none.
    const started = { ...before, mtu: 1320 };
    assert.equal(before.mtu, undefined);
    assert.deepEqual(planReload(started, before, runningState({ device })).restartNeeded, []);
    const withMtu = settingsOf(file('Address = 10.8.0.1/24\nListenPort = 51820\nMTU = 1380', []));
    assert.deepEqual(planReload(withMtu, withMtu, runningState({ device })).restartNeeded, []);
  });

  it('moves the listen port and the private key, and a --listen-port flag still wins over the file', () => {
    const newKey = key();
    const next = settingsOf(file('Address = 10.8.0.1/24\nListenPort = 51900', []).replace(own, newKey));
    const device = running(before);
    const plan = planReload(before, next, runningState({ device }));
    assert.equal(plan.listenPort, 'listen_port=51900');
    assert.match(plan.uapi, new RegExp(`^private_key=${Buffer.from(newKey, 'base64').toString('hex')}\n`));
    const flagged = settingsOf(file('Address = 10.8.0.1/24\nListenPort = 51900', []), { 'listen-port': '51820' });
    assert.equal(planReload(before, flagged, runningState({ device })).listenPort, '');
  });
});

describe('reload', () => {
  it('applies nothing when the daemon began to stop while the file was read', async () => {
    const before = settingsOf(file('ListenPort = 51820', [peer(a, 'AllowedIPs = 10.8.0.2/32')]));
    const next = settingsOf(file('ListenPort = 51820', [peer(b, 'AllowedIPs = 10.8.0.3/32')]));
    const device = running(before);
    const stopping = new AbortController();
    const lines: string[] = [];
    const log = createLogger({
      level: 'info',
      format: 'json',
      name: 'test',
      destination: { write: (l: string) => lines.push(JSON.parse(l).msg) } as unknown as NodeJS.WritableStream,
    });
    try {
      const daemon = { device, routes: undefined, settings: before } as unknown as RunningDaemon;
      await reload(
        daemon,
        async () => {
          stopping.abort('SIGTERM'); // the stop began during the read
          return next;
        },
        log,
        stopping.signal,
      );
      assert.deepEqual(lines, ['reloading', 'reload: abandoned, the daemon stops']);
      assert.ok(device.engine.peer(Buffer.from(a, 'base64')), 'nothing applied');
      assert.equal(device.engine.peer(Buffer.from(b, 'base64')), undefined);
      assert.equal(daemon.settings, before);
    } finally {
      await device.close();
    }
  });
});

describe('applyReload', () => {
  it('applies the plan on a Device: the unchanged peer is the same object with its session, the rest follows the file', async () => {
    const before = settingsOf(
      file('ListenPort = 51820', [peer(a, 'AllowedIPs = 10.8.0.2/32'), peer(b, 'AllowedIPs = 10.8.0.3/32')]),
    );
    const next = settingsOf(
      file('ListenPort = 51820', [
        peer(a, 'AllowedIPs = 10.8.0.2/32'),
        peer(c, 'AllowedIPs = 10.8.0.4/32\nPersistentKeepalive = 5'),
      ]),
    );
    const device = running(before);
    const kept = device.engine.peer(Buffer.from(a, 'base64'));
    assert.ok(kept);
    kept.lastHandshakeWallMs = 123_456; // what a completed handshake leaves
    try {
      const daemon = { device, routes: undefined } as unknown as RunningDaemon;
      await applyReload(daemon, planReload(before, next, runningState({ device })));
      assert.equal(device.engine.peer(Buffer.from(a, 'base64')), kept, 'the same peer object');
      assert.equal(kept.lastHandshakeWallMs, 123_456);
      assert.equal(device.engine.peer(Buffer.from(b, 'base64')), undefined);
      const added = device.engine.peer(Buffer.from(c, 'base64'));
      assert.equal(added?.persistentKeepalive, 5);
      assert.deepEqual(device.engine.allowedIps.prefixesOf(added as NonNullable<typeof added>), ['10.8.0.4/32']);
      assert.deepEqual(planReload(next, next, runningState({ device })).uapi, '', 'now it runs what the file says');
    } finally {
      await device.close();
    }
  });
});
