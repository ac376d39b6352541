// The effective settings: flags over TUNKIT_* variables over the wg-quick file over defaults.
// A bad value is named through showValue: a key pasted into the wrong flag or variable is not echoed.

import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { showValue, type WgQuickConfig } from '@tunkit/wireguard';
import { type CliValues, envName, type Role } from './cli.js';
import { resolutionRetries } from './endpoints.js';
import { StartupError } from './startup-error.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface DaemonSettings {
  role: Role;
  configPath: string;
  /** Interface name (also the UAPI socket's and the cleanup journal's). */
  name: string;
  /** --mtu or MTU =; undefined: derived at start from the routes to the endpoints (wg-quick's way). */
  mtu: number | undefined;
  /** Retries of a transiently failing endpoint host name at start (WG_ENDPOINT_RESOLUTION_RETRIES, as `wg`). */
  endpointResolutionRetries: number;
  /** 0: any free port. */
  listenPort: number;
  tunQueues: number;
  /** Native UDP receive threads (LinuxUdpBind's receiveThreads). */
  udpThreads: number;
  udpBind: 'native' | 'dgram';
  /** Where transport data is sealed and opened (the Device's dataPlane option). */
  dataPlane: 'native' | 'js';
  /** Where to write the data path's trace on exit (the Device's trace option); undefined: no trace. */
  trace: string | undefined;
  offload: boolean;
  logLevel: LogLevel;
  logFormat: 'json' | 'pretty';
  metricsListen: { host: string; port: number } | undefined;
  uapi: boolean;
  forward: boolean;
  masquerade: string | undefined;
  allowPeerToPeer: boolean;
  /** Run the config's PreUp/PostUp/PreDown/PostDown (refused without it; see hooks.ts). */
  allowHooks: boolean;
  config: WgQuickConfig;
}

const NAME = /^[A-Za-z0-9_=+.-]{1,15}$/;
/** A host to listen on by name (localhost): DNS labels, which no key can be taken for. */
const HOST_NAME = /^[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*$/;

/** "--mtu (or TUNKIT_MTU)": a value may come from either. */
function where(option: string): string {
  return `--${option} (or ${envName(option)})`;
}

function integer(option: string, value: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new StartupError(`${where(option)} ${showValue(value)} is not an integer in ${min}..${max}`);
  }
  return n;
}

/** The interface name a config file implies: /etc/wireguard/wg0.conf → wg0. */
export function nameFromConfigPath(path: string): string | undefined {
  const name = basename(path).replace(/\.conf$/, '');
  return NAME.test(name) ? name : undefined;
}

/** "127.0.0.1:9586", "[::1]:9586" → host and port. */
export function parseListen(value: string): { host: string; port: number } {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:]+):(\d+)$/.exec(value);
  const host = match?.[1] as string;
  if (!match || (isIP(host) === 0 && !HOST_NAME.test(host))) {
    throw new StartupError(`${where('metrics-listen')} ${showValue(value)} is not host:port (e.g. 127.0.0.1:9586)`);
  }
  return { host, port: integer('metrics-listen', match[2] as string, 1, 65535) };
}

/** Settings from parsed options (see parseCommandLine) and the already-read wg-quick file. */
export function resolveSettings(
  role: Role,
  values: CliValues,
  configPath: string,
  config: WgQuickConfig,
  facts: { cpus?: number; isTty?: boolean; env?: NodeJS.ProcessEnv } = {},
): DaemonSettings {
  const text = (option: string) => values[option] as string | undefined;
  const name = text('name') ?? nameFromConfigPath(configPath) ?? 'tunkit0';
  if (!NAME.test(name)) {
    throw new StartupError(
      `interface name ${showValue(name)} is not valid: 1 to 15 of A-Z a-z 0-9 _ = + . - (use ${where('name')})`,
    );
  }
  const level = text('log-level') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new StartupError(`${where('log-level')} ${showValue(level)} is not one of ${LOG_LEVELS.join(', ')}`);
  }
  const format = text('log-format') ?? (facts.isTty ? 'pretty' : 'json');
  if (format !== 'json' && format !== 'pretty')
    throw new StartupError(`${where('log-format')} ${showValue(format)} is not json or pretty`);
  const cpus = facts.cpus ?? availableParallelism();
  const udpBind = text('udp-bind') ?? 'native';
  if (udpBind !== 'native' && udpBind !== 'dgram')
    throw new StartupError(`${where('udp-bind')} ${showValue(udpBind)} is not native or dgram`);
  const dataPlane = text('data-plane') ?? 'native';
  if (dataPlane !== 'native' && dataPlane !== 'js')
    throw new StartupError(`${where('data-plane')} ${showValue(dataPlane)} is not native or js`);
  const offload = text('offload') ?? 'on';
  if (offload !== 'on' && offload !== 'off')
    throw new StartupError(`${where('offload')} ${showValue(offload)} is not on or off`);
  const metrics = text('metrics-listen');
  const masquerade = text('masquerade');
  if (masquerade !== undefined && !NAME.test(masquerade)) {
    throw new StartupError(
      `${where('masquerade')} ${showValue(masquerade)} is not a network interface name (see 'ip link')`,
    );
  }
  return {
    role,
    configPath,
    name,
    mtu: text('mtu') !== undefined ? integer('mtu', text('mtu') as string, 68, 65535) : config.interface.mtu,
    endpointResolutionRetries: resolutionRetries(facts.env ?? {}),
    listenPort:
      text('listen-port') !== undefined
        ? integer('listen-port', text('listen-port') as string, 0, 65535)
        : (config.interface.listenPort ?? 0),
    tunQueues:
      text('tun-queues') !== undefined ? integer('tun-queues', text('tun-queues') as string, 1, 64) : cpus >= 2 ? 2 : 1,
    udpThreads: text('udp-threads') !== undefined ? integer('udp-threads', text('udp-threads') as string, 1, 16) : 1,
    udpBind,
    dataPlane,
    trace: text('trace'),
    offload: offload === 'on',
    logLevel: level as LogLevel,
    logFormat: format,
    metricsListen: metrics !== undefined ? parseListen(metrics) : undefined,
    uapi: values['no-uapi'] !== true,
    forward: values.forward === true,
    masquerade,
    allowPeerToPeer: values['allow-peer-to-peer'] === true,
    allowHooks: values['allow-hooks'] === true,
    config,
  };
}
