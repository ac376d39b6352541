#!/usr/bin/env node
// Builds the prebuilt native addons every published package carries (README: Installing from npm).
// Usage: node scripts/prebuilds.mjs [--package @tunkit/wireguard,...] [--target linux-x64-glibc,...]
// Default: every package's own targets (package.json "tunkit": { "addon", "prebuilds" }).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildPrebuilds } from './prebuilds/build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { package: { type: 'string' }, target: { type: 'string' } } });
const list = (value) => value?.split(',').filter(Boolean);
const started = Date.now();
try {
  const built = await buildPrebuilds(root, {
    packages: list(values.package),
    targets: list(values.target),
    log: (line) => console.log(line),
  });
  console.log(`${built.length} prebuilds in ${((Date.now() - started) / 1000).toFixed(0)} s`);
} catch (error) {
  console.error(`prebuilds failed: ${error.message}`);
  process.exit(1);
}
