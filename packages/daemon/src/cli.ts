// Command-line options of tunkit-gateway and tunkit-headless, and their TUNKIT_* environment
// twins (--tun-queues ⇄ TUNKIT_TUN_QUEUES). Parsing is strict: an unknown option, a missing
// value or a value given to a switch is a StartupError naming it.

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
  'print-config': {
    type: 'boolean',
    commandOnly: true,
    help: 'print the effective configuration (keys redacted) and exit',
  },
  cleanup: {
    type: 'boolean',
    commandOnly: true,
    help: 'undo what a killed daemon left behind (rules, forwarding, nft) and exit',
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
      allowPositionals: false,
    });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? '';
    const option = /'(-[^']*)'/.exec(message)?.[1];
    const code = (error as { code?: string }).code;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
      throw new StartupError(`unknown option ${option}: see ${program} --help`);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')
      throw new StartupError(`unexpected argument ${option ?? ''}: ${program} takes only options (see --help)`.trim());
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
  return values;
}

export function helpText(role: Role): string {
  const lines = [
    `Usage: tunkit-${role} --config <wg-quick file> [options]`,
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
