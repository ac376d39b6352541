// bench/attack's contenders: the gateway under attack, in the lab's gateway namespace, with two
// peers (the client that pings through the tunnel, and a "new" client that starts mid-attack).
// The clients are Debian's wireguard-go for every contender, so only the gateway differs.
// Each contender reports its process (for CPU and memory), stops with SIGTERM (exit code, time,
// what it left), and, for tunkit, what it counted (/metrics).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error: plain ESM module without types.
import { waitFor } from '../../scripts/lab/topology.mjs';
// @ts-expect-error: plain ESM module without types.
import { daemonLeftovers, startDaemon } from '../../scripts/lab/tunnel.mjs';
import type { Lab } from '../iperf3/contenders.js';
import { upstreamWireguardGo } from '../lib/upstream-wireguard-go.js';

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

export function wgKeyPair(): KeyPair {
  const privateKey = execFileSync('wg', ['genkey'], { encoding: 'utf8' }).trim();
  const publicKey = execFileSync('wg', ['pubkey'], { input: privateKey, encoding: 'utf8' }).trim();
  return { privateKey, publicKey };
}

/** The tunnel: gateway 10.99.0.1, client 10.99.0.2, new client 10.99.0.3, gateway port 51820. */
export const TUNNEL = { gateway: '10.99.0.1', client: '10.99.0.2', newClient: '10.99.0.3', port: 51820 };

export interface Peers {
  client: KeyPair;
  newClient: KeyPair;
}

export interface RunningGateway {
  pid: number;
  publicKey: string;
  /** Interface name (also the UAPI socket's). */
  name: string;
  /** tunkit only: its /metrics as series → value. */
  metrics?(): Map<string, number>;
  /** Sends SIGTERM; resolves the exit code and milliseconds to exit, and what was left behind. */
  stop(): Promise<{ code: number | string; ms: number; leftovers: string[] }>;
}

export interface Gateway {
  name: string;
  /** Debian's wireguard-go: the reference the targets compare with. */
  reference?: boolean;
  setup(lab: Lab, peers: Peers): Promise<RunningGateway>;
}

function keyFile(dir: string, name: string, key: string): string {
  const path = join(dir, name);
  writeFileSync(path, `${key}\n`, { mode: 0o600 });
  return path;
}

/** SIGTERM to `child`, timed; `leftovers()` runs once it exited (or after 5 s). */
async function stopChild(
  child: import('node:child_process').ChildProcess,
  leftovers: () => string[],
): Promise<{ code: number | string; ms: number; leftovers: string[] }> {
  const exited = new Promise<number | string>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? child.signalCode ?? 'gone');
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'gone'));
  });
  const started = performance.now();
  child.kill('SIGTERM');
  const code = await Promise.race([
    exited,
    new Promise<string>((r) => setTimeout(() => r('still running after 5 s'), 5000)),
  ]);
  const ms = performance.now() - started;
  if (typeof code === 'string' && code.startsWith('still')) child.kill('SIGKILL');
  return { code, ms, leftovers: leftovers() };
}

/** What an interface `name` left in the gateway namespace: the link, and `files` that still exist. */
function leftoversOf(lab: Lab, name: string, files: string[]): string[] {
  const left: string[] = [];
  if (lab.exec('gateway', 'ip', ['-o', 'link']).includes(`${name}:`)) left.push(`link ${name}`);
  for (const path of files) if (existsSync(path)) left.push(path);
  return left;
}

/** wireguard-go (`binary`) as the gateway, configured with wg. */
export function wireguardGoGateway(name: string, binary: string, tag: string, reference = false): Gateway {
  return {
    name,
    reference,
    async setup(lab, peers) {
      const keys = wgKeyPair();
      const dir = mkdtempSync(join(tmpdir(), 'tunkit-attack-'));
      const ifname = `${tag}g${lab.id}`.slice(0, 15);
      lab.onDestroy?.(() => {
        rmSync(dir, { recursive: true, force: true });
        rmSync(`/var/run/wireguard/${ifname}.sock`, { force: true });
      });
      const child = lab.spawn('gateway', binary, ['-f', ifname], {
        env: { ...process.env, WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: 'error' },
      });
      await waitFor(`${ifname} UAPI socket`, () => {
        try {
          lab.exec('gateway', 'wg', ['show', ifname]);
          return true;
        } catch {
          return false;
        }
      });
      lab.exec('gateway', 'wg', [
        'set',
        ifname,
        'listen-port',
        String(TUNNEL.port),
        'private-key',
        keyFile(dir, 'gateway.key', keys.privateKey),
        'peer',
        peers.client.publicKey,
        'allowed-ips',
        `${TUNNEL.client}/32`,
        'peer',
        peers.newClient.publicKey,
        'allowed-ips',
        `${TUNNEL.newClient}/32`,
      ]);
      lab.exec('gateway', 'ip', ['addr', 'add', `${TUNNEL.gateway}/24`, 'dev', ifname]);
      lab.exec('gateway', 'ip', ['link', 'set', ifname, 'up']);
      return {
        pid: child.pid as number,
        publicKey: keys.publicKey,
        name: ifname,
        stop: () => stopChild(child, () => leftoversOf(lab, ifname, [`/var/run/wireguard/${ifname}.sock`])),
      };
    },
  };
}

const METRICS = '127.0.0.1:9586';

/** tunkit-gateway (apps/gateway, built) with /metrics. */
export const tunkitGateway: Gateway = {
  name: 'tunkit-gateway',
  async setup(lab, peers) {
    const keys = wgKeyPair();
    const ifname = `tkag${lab.id}`.slice(0, 15);
    const dir = mkdtempSync(join(tmpdir(), 'tunkit-attack-'));
    lab.onDestroy?.(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, `${ifname}.conf`);
    writeFileSync(
      config,
      [
        '[Interface]',
        `PrivateKey = ${keys.privateKey}`,
        `ListenPort = ${TUNNEL.port}`,
        `Address = ${TUNNEL.gateway}/24`,
        '',
        '[Peer]',
        `PublicKey = ${peers.client.publicKey}`,
        `AllowedIPs = ${TUNNEL.client}/32`,
        '',
        '[Peer]',
        `PublicKey = ${peers.newClient.publicKey}`,
        `AllowedIPs = ${TUNNEL.newClient}/32`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const daemon = startDaemon(lab, 'gateway', 'gateway', config, ['--metrics-listen', METRICS]);
    await daemon.waitForLog('gateway up');
    return {
      pid: daemon.child.pid as number,
      publicKey: keys.publicKey,
      name: ifname,
      metrics() {
        const text = lab.exec('gateway', process.execPath, [
          '--input-type=module',
          '-e',
          `const r = await fetch('http://${METRICS}/metrics'); console.log(await r.text());`,
        ]);
        const values = new Map<string, number>();
        for (const line of text.split('\n')) {
          const match = /^([^#\s]\S*) (\S+)$/.exec(line);
          if (match) values.set(match[1] as string, Number(match[2]));
        }
        return values;
      },
      stop: () => stopChild(daemon.child, () => leftoversOf(lab, ifname, daemonLeftovers(ifname))),
    };
  },
};

/** Debian's wireguard-go (the reference), and upstream's when it can be built here. */
export function gateways(): { list: Gateway[]; skipped: string[] } {
  const list: Gateway[] = [wireguardGoGateway('wireguard-go (Debian)', 'wireguard-go', 'wd', true)];
  const skipped: string[] = [];
  const upstream = upstreamWireguardGo();
  if ('skipped' in upstream) skipped.push(`upstream wireguard-go skipped: ${upstream.skipped}`);
  else list.push(wireguardGoGateway('wireguard-go (upstream)', upstream.path, 'wu'));
  list.push(tunkitGateway);
  return { list, skipped };
}

/**
 * A wireguard-go client (Debian's) in the client namespace, peer of the gateway: `address` its
 * tunnel address; with `route`, the gateway's tunnel address is routed through it (one client
 * only: the other shares the namespace); `keepalive` seconds (1 makes it start a handshake at
 * once, with no traffic). Returns its interface name.
 */
export async function startClient(
  lab: Lab,
  keys: KeyPair,
  gatewayKey: string,
  options: { address: string; tag: string; route: boolean; keepalive?: number },
): Promise<string> {
  const { address, tag, route } = options;
  const keepalive = options.keepalive ?? 0;
  const ifname = `${tag}${lab.id}`.slice(0, 15);
  const dir = mkdtempSync(join(tmpdir(), 'tunkit-attack-'));
  lab.onDestroy?.(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(`/var/run/wireguard/${ifname}.sock`, { force: true });
  });
  lab.spawn('client', 'wireguard-go', ['-f', ifname], {
    env: { ...process.env, WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: 'error' },
  });
  await waitFor(`${ifname} UAPI socket`, () => {
    try {
      lab.exec('client', 'wg', ['show', ifname]);
      return true;
    } catch {
      return false;
    }
  });
  lab.exec('client', 'ip', ['addr', 'add', `${address}/32`, 'dev', ifname]);
  lab.exec('client', 'ip', ['link', 'set', ifname, 'up']);
  if (route) lab.exec('client', 'ip', ['route', 'add', `${TUNNEL.gateway}/32`, 'dev', ifname, 'src', address]);
  lab.exec('client', 'wg', [
    'set',
    ifname,
    'private-key',
    keyFile(dir, 'client.key', keys.privateKey),
    'peer',
    gatewayKey,
    'endpoint',
    `${lab.addresses.gatewayClientSide}:${TUNNEL.port}`,
    'allowed-ips',
    `${TUNNEL.gateway}/32`,
    ...(keepalive > 0 ? ['persistent-keepalive', String(keepalive)] : []),
  ]);
  return ifname;
}

/** Whether the client completed a handshake with its one peer. */
export function handshakeDone(lab: Lab, ifname: string): boolean {
  const line = lab.exec('client', 'wg', ['show', ifname, 'latest-handshakes']).trim();
  return Number(line.split('\t')[1] ?? 0) > 0;
}
