#!/usr/bin/env node
// The release, as changesets drives it: `changeset version` bumps the versions (the @tunkit/tun-*
// packages together), then `npm run release` runs this with --publish.
//   1. build every package (turbo) and every prebuild (scripts/prebuilds.mjs);
//   2. pack each publishable package into .release/ (pnpm pack: workspace:* becomes the version);
//   3. check each tarball (scripts/release/pack.mjs): prebuilds present, no tests or sources that
//      are not needed, size bounded; print a table; stop on any problem;
//   4. with --publish: publish those same tarballs (a version already on the registry is skipped)
//      and tag the release with `changeset tag`.
// Without --publish (`npm run release:check`) it stops after the checks.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkTarball, packPackages, publishablePackages } from './release/pack.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { publish: { type: 'boolean' }, 'skip-build': { type: 'boolean' } } });
const bin = (name) => join(root, 'node_modules', '.bin', name);
const env = { ...process.env, PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH}` };
const run = (command, args) => execFileSync(command, args, { cwd: root, stdio: 'inherit', env });

if (!values['skip-build']) {
  run(bin('turbo'), ['run', 'build', '--output-logs=errors-only']);
  run(process.execPath, [join(root, 'scripts', 'prebuilds.mjs')]);
}

const out = join(root, '.release');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const packed = packPackages(root, publishablePackages(root), out);
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
console.log(
  '\n| package | version | tarball | unpacked | files | prebuilds | problems |\n|---|---|---|---|---|---|---|',
);
let failed = false;
for (const pkg of packed) {
  const result = checkTarball(pkg, pkg.tarball);
  failed ||= result.problems.length > 0;
  console.log(
    `| ${pkg.name} | ${pkg.version} | ${kib(result.tarballBytes)} | ${kib(result.unpackedBytes)} | ${result.files} | ${result.prebuilds.length} | ${result.problems.join('; ') || 'none'} |`,
  );
}
if (failed) {
  console.error('\nrelease stopped: fix the problems above');
  process.exit(1);
}
if (!values.publish) {
  console.log(`\n${packed.length} tarballs in .release/ checked; publish them with 'npm run release'`);
  process.exit(0);
}

for (const pkg of packed) {
  const onRegistry = spawnSync('npm', ['view', `${pkg.name}@${pkg.version}`, 'version'], { encoding: 'utf8' });
  if (onRegistry.status === 0 && onRegistry.stdout.trim() === pkg.version) {
    console.log(`${pkg.name}@${pkg.version} is on the registry already: skipped`);
    continue;
  }
  run('npm', ['publish', pkg.tarball, '--access', 'public']);
}
run(bin('changeset'), ['tag']);
