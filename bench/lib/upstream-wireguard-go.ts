// Upstream wireguard-go (with its TCP/UDP GSO/GRO offloads), the best userspace WireGuard there
// is, as a benchmark contender beside Debian's 2022 release. It is never part of the project:
// ../shared/anchors/wireguard-go/build.sh builds it offline from a pinned source and prints the
// binary's path. Where that cannot run, the contender is skipped and the reason printed.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the build script lives: WIREGUARD_GO_UPSTREAM_BUILD, else ../shared/anchors beside the checkout. */
export const UPSTREAM_BUILD_SCRIPT =
  process.env.WIREGUARD_GO_UPSTREAM_BUILD ?? join(ROOT, '..', 'shared', 'anchors', 'wireguard-go', 'build.sh');

/** IFF_VNET_HDR in a TUN device's tun_flags: the device carries virtio-net headers (offloads on). */
export const IFF_VNET_HDR = 0x4000;

export type UpstreamBinary = { path: string } | { skipped: string };

let resolved: UpstreamBinary | undefined;

/**
 * The upstream binary: WIREGUARD_GO_UPSTREAM (a path) when set, else what the build script prints
 * (it builds once, minutes, then answers at once). Never throws: a failure is a reason to skip.
 */
export function upstreamWireguardGo(): UpstreamBinary {
  if (resolved) return resolved;
  const given = process.env.WIREGUARD_GO_UPSTREAM;
  if (given) {
    resolved = existsSync(given) ? { path: given } : { skipped: `WIREGUARD_GO_UPSTREAM=${given} does not exist` };
    return resolved;
  }
  if (!existsSync(UPSTREAM_BUILD_SCRIPT)) {
    resolved = { skipped: `no build script at ${UPSTREAM_BUILD_SCRIPT} (set WIREGUARD_GO_UPSTREAM to a binary)` };
    return resolved;
  }
  try {
    const output = execFileSync('bash', [UPSTREAM_BUILD_SCRIPT], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const path = output.trim().split('\n').pop() ?? '';
    resolved = existsSync(path) ? { path } : { skipped: `${UPSTREAM_BUILD_SCRIPT} printed no binary path` };
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim().split('\n').slice(-3).join(' / ');
    resolved = { skipped: `${UPSTREAM_BUILD_SCRIPT} failed: ${stderr || (error as Error).message}` };
  }
  return resolved;
}
