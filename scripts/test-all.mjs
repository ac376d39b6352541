#!/usr/bin/env node
// The whole test suite, as CI runs it (README: `npm test`):
//   1. build every package (TypeScript and native addons) and typecheck, through turbo;
//   2. lint and format check (biome);
//   3. the prebuilt addons of the published packages, for all seven targets (scripts/prebuilds.mjs);
//   4. native C++ tests (the batch channel under ThreadSanitizer, tun-windows' WinTun threads under
//      sanitizers, its Windows sources cross-compiled with mingw-w64 and run under Wine, ...);
//   5. every TypeScript test file of every package (and scripts/test/) in one node --test run, privileged ones included.
// The last lines printed are node's test-runner summary.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTests } from './run-tests.mjs';
import { ensureSystemTools } from './system-deps.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

// turbo runs each package's task with the pinned pnpm, from node_modules/.bin.
const env = { ...process.env, PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH}` };

// No step may hang CI: past this a step is killed and the run fails, saying so.
const STEP_TIMEOUT_MS = 30 * 60 * 1000;

function step(title, command, args) {
  console.log(`\n=== ${title}`);
  const r = spawnSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    env,
    timeout: STEP_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
  if (r.error?.code === 'ETIMEDOUT') {
    console.error(
      `\n${title} did not finish within ${STEP_TIMEOUT_MS / 60000} minutes: a test or a process it started hangs`,
    );
    process.exit(1);
  }
  if (r.status !== 0) {
    console.error(`\n${title} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

// Tools the privileged tests and the native cross-compile use. Installed in CI (root); elsewhere the
// tests that need them say why they skip, and tun-windows' mingw step says how to install its compiler.
if (process.env.CI === 'true' && process.getuid?.() === 0) {
  ensureSystemTools([
    'ip',
    'ping',
    'wg',
    'wireguard-go',
    'nft',
    'tcpdump',
    'systemd-analyze',
    '/bin/kill',
    'iperf3',
    'x86_64-w64-mingw32-g++-posix',
    'wine',
    'qemu-aarch64-static',
    '/usr/aarch64-linux-gnu/lib/libc.so.6',
    '/usr/aarch64-linux-gnu/lib/libstdc++.so.6',
  ]);
}

step('build and typecheck', bin('turbo'), ['run', 'build', 'typecheck', '--output-logs=errors-only']);
step('lint', bin('biome'), ['ci', '--colors=off', '.']);
// Every native addon for the seven targets of the published packages (scripts/prebuilds.mjs); the
// tests in scripts/test/ check, load and pack them.
step('prebuilds', process.execPath, [join(root, 'scripts', 'prebuilds.mjs')]);
step('native tests', bin('turbo'), ['run', 'test:native', '--output-logs=full']);

const packageDirs = [
  ...['packages', 'apps']
    .map((d) => join(root, d))
    .filter(existsSync)
    .flatMap((d) => readdirSync(d).map((name) => join(d, name))),
  // scripts/test/: the prebuild checks and the packaging test.
  join(root, 'scripts'),
  // bench/test/: how the benches read their tools' output.
  join(root, 'bench'),
];
const files = packageDirs.flatMap(findTests).map((f) => relative(root, f));
step(`TypeScript tests (${files.length} files)`, process.execPath, [
  '--import',
  'tsx',
  '--test',
  '--test-reporter=spec',
  ...files,
]);
