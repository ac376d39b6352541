// Packing the publishable packages and checking each tarball before it is published: the files a
// user needs are there (every `exports`/`bin` target, LICENSE, README, each prebuild the package
// declares), nothing else is (tests, fakes, TypeScript sources, build folders, C++ sources that no
// binding.gyp condition of the package's platforms compiles), and the size is bounded. Used by
// scripts/release.mjs and by the packaging test (scripts/test/packaging.test.ts).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readBindingGyp } from '../prebuilds/gyp.mjs';
import { prebuildPath, targetById } from '../prebuilds/targets.mjs';

/** Bounds per package: the largest (wireguard, seven prebuilds) is about 1 MB packed, 3 MB unpacked. */
export const MAX_TARBALL_BYTES = 4 * 1024 * 1024;
export const MAX_UNPACKED_BYTES = 12 * 1024 * 1024;

/** Paths a published package never holds. */
const NOT_SHIPPED = [
  [/(^|\/)(test|tests|__tests__|fixtures|fake)\//, 'test code'],
  [/\.test\.[cm]?[jt]s(\.map)?$/, 'a test file'],
  [/^src\//, 'TypeScript sources'],
  [/(^|\/)build\//, 'a build folder'],
  [/(^|\/)(node_modules|\.turbo)\//, 'an installed or cached folder'],
  [/(^|\/)tsconfig[^/]*\.json$|(^|\/)tsup\.config\.ts$/, 'build configuration'],
];

/** binding.gyp's OS names for package.json `os` values. */
const GYP_OS = { linux: 'linux', darwin: 'mac', win32: 'win', android: 'linux' };

/** The workspace's publishable packages (not `private`), each { name, version, dir, manifest }. */
export function publishablePackages(root) {
  const out = [];
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, group)).sort()) {
      const file = join(root, group, name, 'package.json');
      if (!existsSync(file)) continue;
      const manifest = JSON.parse(readFileSync(file, 'utf8'));
      if (manifest.private) continue;
      out.push({ name: manifest.name, version: manifest.version, dir: join(root, group, name), manifest });
    }
  }
  return out;
}

/** Packs each package with pnpm (which turns workspace:* into versions) into `outDir`; returns the tarballs. */
export function packPackages(root, packages, outDir) {
  const pnpm = join(root, 'node_modules', '.bin', 'pnpm');
  return packages.map((pkg) => {
    const before = new Set(readdirSync(outDir));
    execFileSync(pnpm, ['pack', '--pack-destination', outDir], {
      cwd: pkg.dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const tarball = readdirSync(outDir).find((f) => f.endsWith('.tgz') && !before.has(f));
    if (tarball === undefined) throw new Error(`pnpm pack wrote no tarball for ${pkg.name}`);
    return { ...pkg, tarball: join(outDir, tarball) };
  });
}

/** Every file path an `exports` map or `bin` names. */
function declaredFiles(manifest) {
  const paths = new Set();
  const walk = (value) => {
    if (typeof value === 'string') paths.add(value.replace(/^\.\//, ''));
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(manifest.exports ?? {});
  walk(manifest.bin ?? {});
  if (manifest.main) walk(manifest.main);
  return [...paths];
}

/**
 * The C++ sources binding.gyp compiles for the shipped addon (package.json tunkit.addon; every
 * target where none is named) on any of the package's platforms: a test-only target's are not.
 */
function neededSources(pkg) {
  const nativeDir = join(pkg.dir, 'native');
  if (!existsSync(join(nativeDir, 'binding.gyp'))) return new Set();
  const oses = (pkg.manifest.os ?? ['linux', 'darwin', 'win32']).map((os) => GYP_OS[os] ?? os);
  const addon = pkg.manifest.tunkit?.addon;
  return new Set(
    [...new Set(oses)].flatMap((os) =>
      readBindingGyp(nativeDir, os)
        .filter((t) => addon === undefined || t.target_name === addon)
        .flatMap((t) => t.sources.map((s) => `native/${s}`)),
    ),
  );
}

/**
 * Checks one tarball. Returns { problems, files, tarballBytes, unpackedBytes, prebuilds }:
 * problems is empty when it may be published.
 */
export function checkTarball(pkg, tarball) {
  const listing = execFileSync('tar', ['tzvf', tarball], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const entries = listing
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const fields = line.trim().split(/\s+/);
      return { size: Number(fields[2]), path: (fields.at(-1) ?? '').replace(/^package\//, '') };
    })
    .filter((e) => !e.path.endsWith('/'));
  const files = new Set(entries.map((e) => e.path));
  const problems = [];
  for (const required of ['package.json', 'LICENSE', 'README.md', ...declaredFiles(pkg.manifest)]) {
    if (required.includes('*')) continue;
    if (!files.has(required)) problems.push(`${required} is missing`);
  }
  const prebuilds = [];
  const addon = pkg.manifest.tunkit?.addon;
  for (const id of pkg.manifest.tunkit?.prebuilds ?? []) {
    const path = `native/${prebuildPath(targetById(id), addon)}`;
    if (files.has(path)) prebuilds.push(id);
    else problems.push(`the ${id} prebuild (${path}) is missing`);
  }
  for (const { path } of entries) {
    const bad = NOT_SHIPPED.find(([pattern]) => pattern.test(path));
    if (bad) problems.push(`${path} is ${bad[1]}, not for publishing`);
  }
  const sources = neededSources(pkg);
  for (const { path } of entries) {
    if (path.endsWith('.cc') && !sources.has(path))
      problems.push(`${path} is compiled by no binding.gyp condition of ${pkg.name}'s platforms`);
  }
  const tarballBytes = statSync(tarball).size;
  const unpackedBytes = entries.reduce((sum, e) => sum + e.size, 0);
  if (tarballBytes > MAX_TARBALL_BYTES)
    problems.push(`the tarball is ${tarballBytes} bytes, over ${MAX_TARBALL_BYTES}`);
  if (unpackedBytes > MAX_UNPACKED_BYTES)
    problems.push(`it unpacks to ${unpackedBytes} bytes, over ${MAX_UNPACKED_BYTES}`);
  return { problems, files: files.size, tarballBytes, unpackedBytes, prebuilds, tarball: basename(tarball) };
}
