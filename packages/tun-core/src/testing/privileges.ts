// Privileged tests (real TUN devices, network namespaces) need root or CAP_NET_ADMIN,
// /dev/net/tun and iproute2. Outside CI they skip and print why; in CI (CI=true) a missing
// privilege is a failure, so a green CI run means they ran.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const CAP_NET_ADMIN = 12;

function hasNetAdmin(): boolean {
  if (process.getuid?.() === 0) return true;
  try {
    const line = readFileSync('/proc/self/status', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('CapEff:'));
    const mask = BigInt(`0x${line?.split(/\s+/)[1] ?? '0'}`);
    return (mask & (1n << BigInt(CAP_NET_ADMIN))) !== 0n;
  } catch {
    return false;
  }
}

/** Why privileged tests cannot run here, or undefined when they can. */
export function privilegedSkipReason(): string | undefined {
  if (process.platform !== 'linux') return `they need Linux network namespaces (this is ${process.platform})`;
  if (!hasNetAdmin()) return 'they need root or CAP_NET_ADMIN (run the tests as root)';
  if (!existsSync('/dev/net/tun'))
    return 'they need /dev/net/tun (modprobe tun, or pass the device into the container)';
  if (spawnSync('ip', ['-V'], { stdio: 'ignore' }).status !== 0)
    return "they need iproute2's 'ip' command (apt-get install iproute2)";
  return undefined;
}

/**
 * Options for a privileged node:test suite: `{ skip: false }` when it can run; outside CI
 * `{ skip: reason }` after printing the reason; in CI it throws, failing the run loudly.
 */
export function privilegedSuite(what: string, extraReason?: string): { skip: string | false } {
  const reason = privilegedSkipReason() ?? extraReason;
  if (reason === undefined) return { skip: false };
  if (process.env.CI === 'true') {
    throw new Error(`privileged tests '${what}' must run in CI but cannot: ${reason}`);
  }
  console.log(`# skipping privileged tests '${what}': ${reason}`);
  return { skip: reason };
}
