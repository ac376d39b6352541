// The iperf3 benchmark's contenders: each sets up its path from the client namespace to the
// server namespace in a fresh lab and reports the daemon processes to measure. Every contender
// is measured the same way, one after another, in one invocation (so ratios compare like with like).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error: plain ESM module without types, shared with the demo and the app tests.
import { waitFor } from '../../scripts/lab/topology.mjs';
// @ts-expect-error: plain ESM module without types, shared with the demo and the app tests.
import { startDaemon, tunnelConfigs, writeConfigs } from '../../scripts/lab/tunnel.mjs';
import { IFF_VNET_HDR, upstreamWireguardGo } from '../lib/upstream-wireguard-go.js';

export interface Lab {
  id: string;
  ns: { client: string; gateway: string; server: string };
  addresses: Record<string, string>;
  exec(where: string, command: string, args?: string[]): string;
  onDestroy?(step: () => void): void;
  spawn(where: string, command: string, args?: string[], options?: object): import('node:child_process').ChildProcess;
  destroy(): void;
}

/** A daemon process whose CPU and memory the benchmark measures, by its place in the lab. */
export interface DaemonProcess {
  role: 'client' | 'gateway';
  pid: number;
}

export interface Contender {
  name: string;
  /** Sets up the path client → server; returns the daemons whose CPU and memory count. */
  setup(lab: Lab): Promise<DaemonProcess[]>;
  /** Stops the daemons cleanly before the lab goes (so that profiles get written). */
  teardown?(): Promise<void>;
}

/** The bare veth path, routed by the gateway: the ceiling no tunnel can beat. */
export const bareVeth: Contender = {
  name: 'veth (no tunnel)',
  async setup(lab) {
    lab.exec('client', 'ip', ['route', 'add', '10.88.2.0/24', 'via', lab.addresses.gatewayClientSide as string]);
    return [];
  },
};

function wgKeyPair(): { privateKey: string; publicKey: string } {
  const privateKey = execFileSync('wg', ['genkey'], { encoding: 'utf8' }).trim();
  const publicKey = execFileSync('wg', ['pubkey'], { input: privateKey, encoding: 'utf8' }).trim();
  return { privateKey, publicKey };
}

/**
 * tunkit-gateway and tunkit-headless (the apps, built), with `queues` TUN queues each. With
 * `profileDir`, both run under --cpu-prof and write <role>-q<queues>-<n>.cpuprofile there.
 */
export function tunkitPair(
  queues: number,
  profileDir?: string,
  variant: {
    offload?: boolean;
    udpBind?: 'native' | 'dgram';
    aead?: 'native' | 'node-crypto';
    dataPlane?: 'native' | 'js';
    /** A directory: each daemon writes its data-path trace there on exit (--trace), as <gateway or headless>-<round>.json. */
    traceDir?: string;
  } = {},
): Contender {
  const offload = variant.offload ?? true;
  const dataPlane = variant.dataPlane ?? 'native';
  const udpBind = variant.udpBind ?? 'native';
  const aead = variant.aead ?? 'native';
  const suffix = `${dataPlane === 'js' ? ', JS data plane' : ''}${offload ? '' : ', offload off'}${udpBind === 'dgram' ? ', node:dgram' : ''}${aead === 'node-crypto' ? ', node:crypto AEAD' : ''}`;
  // Profile files are named per variant, so contenders with the same queue count do not overwrite each other.
  const variantTag = `q${queues}${dataPlane === 'js' ? '-js' : ''}${offload ? '' : '-nooffload'}${udpBind === 'dgram' ? '-dgram' : ''}${aead === 'node-crypto' ? '-nodecrypto' : ''}`;
  let daemons: { stop(signal?: string): Promise<unknown> }[] = [];
  let round = 0;
  return {
    name: `tunkit-headless ↔ tunkit-gateway, queues=${queues}${suffix}`,
    async setup(lab) {
      const configs = tunnelConfigs({ clientAllowedIps: ['10.99.0.0/24', '10.88.2.0/24'] });
      const names = { gateway: `tkg${lab.id}`.slice(0, 15), client: `tkc${lab.id}`.slice(0, 15) };
      const files = writeConfigs({ [names.gateway]: configs.gatewayText, [names.client]: configs.clientText }, lab);
      const args = [
        '--tun-queues',
        String(queues),
        '--log-level',
        'warn',
        '--offload',
        offload ? 'on' : 'off',
        '--udp-bind',
        udpBind,
        '--data-plane',
        dataPlane,
      ];
      round++;
      // TUNKIT_AEAD=node-crypto: the per-packet node:crypto cipher the data path started with.
      const env = (role: string) => ({
        ...(aead === 'node-crypto' ? { TUNKIT_AEAD: 'node-crypto' } : {}),
        ...(variant.traceDir ? { TUNKIT_TRACE: join(variant.traceDir, `${role}-${round}.json`) } : {}),
      });
      const profile = (role: string) =>
        profileDir
          ? {
              env: env(role),
              nodeArgs: [
                '--cpu-prof',
                '--cpu-prof-dir',
                profileDir,
                '--cpu-prof-name',
                `${role}-${variantTag}-${round}.cpuprofile`,
              ],
            }
          : { env: env(role) };
      const gateway = startDaemon(lab, 'gateway', 'gateway', files.paths[names.gateway], args, profile('gateway'));
      const client = startDaemon(lab, 'client', 'headless', files.paths[names.client], args, profile('headless'));
      daemons = [gateway, client];
      await waitFor('the tunkit handshake', () => {
        try {
          lab.exec('client', 'ping', ['-c', '1', '-W', '1', '10.99.0.1']);
          return true;
        } catch {
          return false;
        }
      });
      files.remove(); // read at start
      return [
        { role: 'client', pid: client.child.pid as number },
        { role: 'gateway', pid: gateway.child.pid as number },
      ];
    },
    async teardown() {
      await Promise.all(daemons.map((d) => d.stop('SIGTERM')));
      daemons = [];
    },
  };
}

/**
 * wireguard-go on both ends (client and gateway), configured with wg from wireguard-tools: `binary`
 * is Debian's (`wireguard-go` on PATH, the 2022 release without offloads) or upstream's. `tag`
 * keeps the interface and UAPI socket names apart. After setup, `offloads` says whether the
 * interfaces carry virtio-net headers (IFF_VNET_HDR in tun_flags: upstream's GSO/GRO are on).
 */
export function wireguardGoPair(name: string, binary: string, tag: string): Contender & { offloads?: boolean } {
  const contender: Contender & { offloads?: boolean } = {
    name,
    async setup(lab) {
      const client = wgKeyPair();
      const gateway = wgKeyPair();
      const dir = mkdtempSync(join(tmpdir(), 'tunkit-bench-'));
      const keyFile = (file: string, key: string) => {
        const path = join(dir, file);
        writeFileSync(path, `${key}\n`, { mode: 0o600 });
        return path;
      };
      // The UAPI socket path (/var/run/wireguard/NAME.sock) is shared across namespaces: unique names.
      const names = { client: `${tag}c${lab.id}`.slice(0, 15), gateway: `${tag}g${lab.id}`.slice(0, 15) };
      lab.onDestroy?.(() => {
        rmSync(dir, { recursive: true, force: true });
        // wireguard-go killed with the lab leaves its UAPI socket behind.
        for (const n of Object.values(names)) rmSync(`/var/run/wireguard/${n}.sock`, { force: true });
      });
      const pids: DaemonProcess[] = [];
      for (const side of ['client', 'gateway'] as const) {
        const child = lab.spawn(side, binary, ['-f', names[side]], {
          env: { ...process.env, WG_PROCESS_FOREGROUND: '1', LOG_LEVEL: 'error' },
        });
        pids.push({ role: side, pid: child.pid as number });
        await waitFor(`${names[side]} UAPI socket`, () => {
          try {
            lab.exec(side, 'wg', ['show', names[side]]);
            return true;
          } catch {
            return false;
          }
        });
      }
      lab.exec('gateway', 'wg', [
        'set',
        names.gateway,
        'listen-port',
        '51820',
        'private-key',
        keyFile('gateway.key', gateway.privateKey),
        'peer',
        client.publicKey,
        'allowed-ips',
        '10.99.0.2/32',
      ]);
      lab.exec('client', 'wg', [
        'set',
        names.client,
        'private-key',
        keyFile('client.key', client.privateKey),
        'peer',
        gateway.publicKey,
        'endpoint',
        `${lab.addresses.gatewayClientSide}:51820`,
        'allowed-ips',
        '10.99.0.0/24,10.88.2.0/24',
      ]);
      lab.exec('gateway', 'ip', ['addr', 'add', '10.99.0.1/24', 'dev', names.gateway]);
      lab.exec('gateway', 'ip', ['link', 'set', names.gateway, 'up']);
      lab.exec('client', 'ip', ['addr', 'add', '10.99.0.2/24', 'dev', names.client]);
      lab.exec('client', 'ip', ['link', 'set', names.client, 'up']);
      lab.exec('client', 'ip', ['route', 'add', '10.88.2.0/24', 'dev', names.client]);
      // /proc/PID/fdinfo of a TUN fd names the interface only ("iff:"); its flags are in sysfs.
      contender.offloads = (['client', 'gateway'] as const).every(
        (side) =>
          (Number(lab.exec(side, 'cat', [`/sys/class/net/${names[side]}/tun_flags`]).trim()) & IFF_VNET_HDR) !== 0,
      );
      return pids;
    },
  };
  return contender;
}

/** Debian's wireguard-go (the 2022 release, no offloads). */
export const wireguardGo = wireguardGoPair('wireguard-go ↔ wireguard-go (Debian)', 'wireguard-go', 'wg');

/** Upstream wireguard-go with its offloads, or why it cannot run here. */
export function upstreamWireguardGoPair(): (Contender & { offloads?: boolean }) | { skipped: string } {
  const binary = upstreamWireguardGo();
  if ('skipped' in binary) return binary;
  return wireguardGoPair('upstream wireguard-go ↔ upstream wireguard-go', binary.path, 'wu');
}
