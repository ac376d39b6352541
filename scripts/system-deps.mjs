// Installs the Debian packages that privileged tests, native cross-compiles and benchmarks need, when they are missing.
// Used by scripts/test-all.mjs (in CI) and by the demo and benchmarks; never run implicitly as a non-root user.
import { execFileSync, spawnSync } from 'node:child_process';

/** A Debian package and the command whose presence shows it is installed. */
export const SYSTEM_TOOLS = {
  ip: 'iproute2',
  ping: 'iputils-ping',
  iperf3: 'iperf3',
  'wireguard-go': 'wireguard-go',
  wg: 'wireguard-tools',
  nft: 'nftables',
  // tun-windows' test:native cross-compiles its Windows sources (posix-threads flavour: see its native/test/Makefile).
  'x86_64-w64-mingw32-g++-posix': 'g++-mingw-w64-x86-64',
  // ...and runs that Windows build with Windows Node.js under Wine (the `wine` package pulls in wine64).
  wine: 'wine',
};

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Ensures each command is on PATH, installing its Debian package with apt-get when it is not.
 * @param {string[]} commands keys of SYSTEM_TOOLS
 * @returns {string[]} the packages it installed
 */
export function ensureSystemTools(commands) {
  const missing = commands.filter((c) => !has(c)).map((c) => SYSTEM_TOOLS[c] ?? c);
  if (missing.length === 0) return [];
  if (process.getuid?.() !== 0) {
    throw new Error(
      `missing ${missing.join(', ')}: install with 'sudo apt-get install --no-install-recommends ${missing.join(' ')}'`,
    );
  }
  console.log(`installing ${missing.join(', ')} with apt-get (missing on this machine)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  return missing;
}
