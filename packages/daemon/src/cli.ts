// Command-line options of tunkit-gateway and tunkit-headless, and their TUNKIT_* environment
// twins (--tun-queues ⇄ TUNKIT_TUN_QUEUES). Parsing is strict: an unknown option, a missing
// value or a value given to a switch is a StartupError naming it.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { showValue } from '@tunkit/wireguard';
import { StartupError } from './startup-error.js';

export type Role = 'gateway' | 'headless';

interface OptionSpec {
  type: 'string' | 'boolean';
  help: string;
  value?: string;
  roles?: Role[];
  /** An action of one invocation, not a setting: not read from the environment. */
  commandOnly?: boolean;
}

export const OPTIONS: Record<string, OptionSpec> = {
  config: { type: 'string', value: 'path', help: 'wg-quick configuration file ([Interface] and [Peer]s)' },
  name: { type: 'string', value: 'name', help: 'interface name (default: the config file name, e.g. wg0.conf → wg0)' },
  mtu: {
    type: 'string',
    value: 'bytes',
    help: "tunnel MTU, 68..65535 (default: MTU=, else the endpoint route's MTU - 80, as wg-quick)",
  },
  'listen-port': { type: 'string', value: 'port', help: 'UDP port (default: ListenPort= or any free port)' },
  'tun-queues': { type: 'string', value: 'n', help: 'Linux TUN queues, 1..64 (default 2 with 2+ CPUs, else 1)' },
  'udp-threads': {
    type: 'string',
    value: 'n',
    help: 'native UDP receive threads, 1..16 (default 1); above 1 the listen port is an SO_REUSEPORT group, for a gateway with many peers',
  },
  offload: {
    type: 'string',
    value: 'on|off',
    help: 'Linux TUN offloads (TSO/USO super-packets; default on where the kernel has them)',
  },
  'udp-bind': {
    type: 'string',
    value: 'kind',
    help: 'native (Linux: recvmmsg/sendmmsg/GSO, the default there) or dgram (node:dgram)',
  },
  'data-plane': {
    type: 'string',
    value: 'kind',
    help: 'native (seal and open on native threads where the TUN and UDP bind allow it, the default) or js',
  },
  trace: {
    type: 'string',
    value: 'file',
    help: 'record when each batch of the data path was ready, taken, sealed or opened and passed on, and write it to file (JSON) on exit: a debugging aid (bench/latency)',
  },
  'log-level': { type: 'string', value: 'level', help: 'trace, debug, info, warn, error or fatal (default info)' },
  'log-format': { type: 'string', value: 'format', help: 'json or pretty (default: pretty on a terminal, else json)' },
  'metrics-listen': {
    type: 'string',
    value: 'host:port',
    help: 'serve Prometheus metrics at http://host:port/metrics',
  },
  'no-uapi': { type: 'boolean', help: 'do not open the UAPI socket (/var/run/wireguard/<name>.sock, for `wg`)' },
  forward: { type: 'boolean', roles: ['gateway'], help: 'enable IPv4 and IPv6 forwarding (restored on exit)' },
  masquerade: {
    type: 'string',
    value: 'iface',
    roles: ['gateway'],
    help: 'nftables masquerade of tunnel traffic leaving through iface (removed on exit)',
  },
  'allow-peer-to-peer': { type: 'boolean', roles: ['gateway'], help: 'let peers reach each other through the gateway' },
  'allow-hooks': {
    type: 'boolean',
    help: "run the config's PreUp/PostUp/PreDown/PostDown shell commands, as wg-quick does (refused without it)",
  },
  'print-config': {
    type: 'boolean',
    commandOnly: true,
    help: 'print the effective configuration (keys redacted) and exit',
  },
  cleanup: {
    type: 'boolean',
    commandOnly: true,
    help: 'undo what a killed daemon left behind (rules, unreachable routes, forwarding, nft, DNS) and exit',
  },
  version: { type: 'boolean', commandOnly: true, help: 'print the version and exit' },
  help: { type: 'boolean', commandOnly: true, help: 'show this help' },
};

export type CliValues = Record<string, string | boolean | undefined>;

/** The environment variable for an option: --tun-queues → TUNKIT_TUN_QUEUES. */
export function envName(option: string): string {
  return `TUNKIT_${option.toUpperCase().replaceAll('-', '_')}`;
}

function optionsFor(role: Role): [string, OptionSpec][] {
  return Object.entries(OPTIONS).filter(([, spec]) => spec.roles === undefined || spec.roles.includes(role));
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off', '']);

/**
 * Flags over TUNKIT_* variables: returns each option's value, from argv when given there, else
 * from the environment. Switches read from the environment accept 1/true/yes/on and 0/false/no/off.
 */
export function parseCommandLine(role: Role, argv: readonly string[], env: NodeJS.ProcessEnv): CliValues {
  const program = `tunkit-${role}`;
  const specs = optionsFor(role);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: Object.fromEntries(specs.map(([name, spec]) => [name, { type: spec.type }])),
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? '';
    const option = /'(-[^']*)'/.exec(message)?.[1];
    const code = (error as { code?: string }).code;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
      throw new StartupError(`unknown option ${option}: see ${program} --help`);
    throw new StartupError(`${message.replace(/\.$/, '')}: see ${program} --help`);
  }
  const values: CliValues = {};
  for (const [name, spec] of specs) {
    const fromArgv = parsed.values[name];
    if (fromArgv !== undefined) {
      values[name] = fromArgv as string | boolean;
      continue;
    }
    const fromEnv = spec.commandOnly ? undefined : env[envName(name)];
    if (fromEnv === undefined) continue;
    if (spec.type === 'string') {
      values[name] = fromEnv;
    } else if (TRUE.has(fromEnv.toLowerCase())) {
      values[name] = true;
    } else if (FALSE.has(fromEnv.toLowerCase())) {
      values[name] = false;
    } else {
      throw new StartupError(`${envName(name)}=${showValue(fromEnv)} is not a switch value: use 1 or 0`);
    }
  }
  const [target, ...extra] = parsed.positionals;
  if (extra.length > 0) {
    throw new StartupError(
      `unexpected argument ${showValue(extra[0] as string)}: ${program} takes one interface name or config file (see --help)`,
    );
  }
  if (target !== undefined) Object.assign(values, interfaceArgument(program, target, parsed.values));
  return values;
}

/** Where wg-quick looks for <name>.conf, in order. */
export const CONFIG_SEARCH_PATHS = ['/etc/wireguard', '/usr/local/etc/wireguard'];

/**
 * wg-quick's argument: a config file (a path, or a name ending in .conf), or an interface name whose
 * file is <name>.conf in the first of CONFIG_SEARCH_PATHS that has it (else the first).
 */
export function interfaceArgument(
  program: string,
  target: string,
  flags: Record<string, unknown>,
  exists: (path: string) => boolean = existsSync,
): { config: string; name?: string } {
  if (flags.config !== undefined) {
    throw new StartupError(
      `${showValue(target)} and --config both name a config: pass one (${program} wg0 reads ${CONFIG_SEARCH_PATHS[0]}/wg0.conf)`,
    );
  }
  if (target.includes('/') || target.endsWith('.conf')) return { config: target };
  if (!INTERFACE_NAME.test(target)) {
    throw new StartupError(
      `${showValue(target)} is neither an interface name (1 to 15 of A-Z a-z 0-9 _ = + . -) nor a config file path`,
    );
  }
  if (flags.name !== undefined && flags.name !== target) {
    throw new StartupError(
      `the interface is ${showValue(target)} or --name ${showValue(String(flags.name))}: pass one`,
    );
  }
  const dir = CONFIG_SEARCH_PATHS.find((d) => exists(join(d, `${target}.conf`))) ?? CONFIG_SEARCH_PATHS[0];
  return { config: join(dir as string, `${target}.conf`), name: target };
}

const INTERFACE_NAME = /^[A-Za-z0-9_=+.-]{1,15}$/;

export function helpText(role: Role): string {
  const lines = [
    `Usage: tunkit-${role} [<interface> | <config file>] [options]`,
    `       tunkit-${role} wg0 reads ${CONFIG_SEARCH_PATHS[0]}/wg0.conf (as wg-quick); --config <file> is the same as giving the file`,
    '',
    role === 'gateway'
      ? 'A WireGuard gateway: accepts any number of peers and forwards between the tunnel and the network behind it.'
      : 'A WireGuard client: routes its AllowedIPs through one or more peers (usually one gateway).',
    '',
    'Options (settings are also read from the environment variable shown; flags win):',
  ];
  for (const [name, spec] of optionsFor(role)) {
    const flag = spec.value ? `--${name} <${spec.value}>` : `--${name}`;
    lines.push(`  ${flag.padEnd(28)} ${spec.help}${spec.commandOnly ? '' : ` [${envName(name)}]`}`);
  }
  return lines.join('\n');
}
