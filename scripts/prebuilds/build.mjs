// Builds the prebuilt addons of the workspace's native packages on this Linux machine: for each
// package whose package.json names its addon and targets ("tunkit": { "addon", "prebuilds" }),
// binding.gyp is read for each target's OS (gyp.mjs) and its sources are compiled with that
// target's compiler (targets.mjs, toolchains.mjs) into native/prebuilds/, where node-gyp-build
// finds them. Objects go to native/build/prebuild-objects/<target>/.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { readBindingGyp } from './gyp.mjs';
import { prebuildPath, targetById } from './targets.mjs';
import { has, MINGW, nodeHeaders, zig } from './toolchains.mjs';

/** The flags every prebuild is compiled with, whatever binding.gyp adds (node-gyp's Release defaults). */
const BASE_FLAGS = ['-std=c++17', '-O2', '-fexceptions', '-Wall', '-Wextra'];

/** Symbols a Windows addon imports from node.exe: N-API, and the OpenSSL the AEAD addon uses. */
const NODE_EXE_SYMBOL = /^(?:__imp_)?((?:napi_|node_api_|uv_|EVP_|OpenSSL_|OPENSSL_|CRYPTO_)\w+)$/;

/** The workspace's packages with prebuilds: { name, dir, addon, targets }. */
export function prebuildPackages(root) {
  const out = [];
  for (const group of ['packages', 'apps']) {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) continue;
    for (const name of readdirSync(groupDir).sort()) {
      const file = join(groupDir, name, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8'));
      if (pkg.tunkit?.prebuilds === undefined) continue;
      out.push({ name: pkg.name, dir: join(groupDir, name), addon: pkg.tunkit.addon, targets: pkg.tunkit.prebuilds });
    }
  }
  return out;
}

/** A queue that runs at most `limit` commands at once. */
function commandPool(limit) {
  let running = 0;
  const waiting = [];
  const next = () => {
    if (running >= limit || waiting.length === 0) return;
    running++;
    const { command, args, options, resolve, reject } = waiting.shift();
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('error', (error) => {
      running--;
      reject(error);
      next();
    });
    child.once('close', (code) => {
      running--;
      if (code === 0) resolve(output);
      else reject(new Error(`${basename(command)} ${args.join(' ')}\nexited ${code}:\n${output}`));
      next();
    });
  };
  return (command, args, options = {}) =>
    new Promise((resolve, reject) => {
      waiting.push({ command, args, options, resolve, reject });
      next();
    });
}

/**
 * Builds every prebuild of `packages` (default: all) for `targets` (default: each package's own
 * list). Returns [{ package, target, file }] of what it wrote.
 */
export async function buildPrebuilds(root, { packages, targets, log = () => {}, jobs = availableParallelism() } = {}) {
  const run = commandPool(jobs);
  const headers = nodeHeaders(root);
  const chosen = prebuildPackages(root).filter((p) => !packages || packages.includes(p.name));
  const units = chosen.flatMap((pkg) =>
    pkg.targets.filter((id) => !targets || targets.includes(id)).map((id) => ({ pkg, target: targetById(id) })),
  );
  const needsZig = units.some((u) => u.target.compiler === 'zig');
  const needsMingw = units.some((u) => u.target.compiler === 'mingw');
  if (needsMingw && !has(MINGW)) {
    throw new Error(
      `${MINGW} is missing: install it with 'apt-get install --no-install-recommends g++-mingw-w64-x86-64'`,
    );
  }
  const zigTool = needsZig ? zig(root) : undefined;
  const built = await Promise.all(
    units.map(async ({ pkg, target }) => {
      const started = Date.now();
      const file = await buildOne(pkg, target, { run, headers, zigTool });
      log(
        `${pkg.name} ${target.id}: ${file.slice(pkg.dir.length + 1)} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
      );
      return { package: pkg.name, target: target.id, file };
    }),
  );
  return built;
}

async function buildOne(pkg, target, { run, headers, zigTool }) {
  const nativeDir = join(pkg.dir, 'native');
  const gypTarget = readBindingGyp(nativeDir, target.gypOS).find((t) => t.target_name === pkg.addon);
  if (gypTarget === undefined)
    throw new Error(`${pkg.name}: binding.gyp has no target '${pkg.addon}' (package.json tunkit.addon)`);
  const objectsDir = join(nativeDir, 'build', 'prebuild-objects', target.id);
  rmSync(objectsDir, { recursive: true, force: true });
  mkdirSync(objectsDir, { recursive: true });

  const flags = [
    ...new Set([...BASE_FLAGS, ...gypTarget.cflags_cc]),
    ...gypTarget.defines.map((d) => `-D${d}`),
    ...gypTarget.include_dirs.map((dir) => `-I${dir}`),
    `-I${headers}`,
  ];
  let compiler;
  let env = process.env;
  if (target.compiler === 'zig') {
    compiler = [zigTool.command, 'c++', '-target', target.zigTarget];
    env = { ...process.env, ...zigTool.env };
    // Hidden by default: the .node exports only what NAPI_MODULE marks (napi_register_module_v1).
    flags.push('-fPIC', '-fvisibility=hidden');
  } else {
    compiler = [MINGW];
    // Node's OpenSSL headers pick their Windows configuration by MSVC's _M_X64, which mingw does
    // not define; without this they would fall back to a 32-bit Linux configuration.
    const win64 = join(headers, 'openssl', 'archs', 'VC-WIN64A', 'asm', 'include', 'openssl', 'configuration.h');
    if (existsSync(win64)) flags.push('-include', win64);
  }

  const objects = await Promise.all(
    gypTarget.sources.map((source) => {
      const object = join(objectsDir, `${source.replaceAll('/', '_')}.o`);
      return run(compiler[0], [...compiler.slice(1), ...flags, '-c', '-o', object, source], {
        cwd: nativeDir,
        env,
      }).then(() => object);
    }),
  );

  const out = join(nativeDir, prebuildPath(target, pkg.addon));
  mkdirSync(dirname(out), { recursive: true });
  const linked = join(objectsDir, `${pkg.addon}.node`);
  const libraries = gypTarget.libraries.map((l) => l.replace(/\.lib$/, ''));
  if (target.compiler === 'zig') {
    const platformFlags =
      target.platform === 'darwin'
        ? // As node-gyp links on macOS: N-API (and OpenSSL) resolve against the node binary at load time.
          ['-Wl,-undefined,dynamic_lookup']
        : ['-s'];
    await run(
      compiler[0],
      [...compiler.slice(1), '-shared', ...platformFlags, '-o', linked, ...objects, ...libraries],
      {
        cwd: nativeDir,
        env,
      },
    );
  } else {
    const importLibrary = await nodeImportLibrary(objects, objectsDir, run);
    await run(
      MINGW,
      [
        '-shared',
        '-s',
        '-o',
        linked,
        ...objects,
        importLibrary,
        ...libraries,
        '-static',
        '-static-libgcc',
        '-static-libstdc++',
      ],
      { cwd: nativeDir },
    );
  }
  copyFileSync(linked, out);
  return out;
}

/**
 * An import library for the node.exe symbols the objects use, made from their own undefined
 * symbols (so nothing from a Windows Node.js install is needed): node-gyp links against node.lib
 * instead, which holds the same exports.
 */
async function nodeImportLibrary(objects, dir, run) {
  const undefinedSymbols = await run('x86_64-w64-mingw32-nm', ['-u', ...objects]);
  const names = new Set();
  for (const line of undefinedSymbols.split('\n')) {
    const match = NODE_EXE_SYMBOL.exec(line.trim().split(/\s+/).pop() ?? '');
    if (match) names.add(match[1]);
  }
  const def = join(dir, 'node.def');
  writeFileSync(
    def,
    `LIBRARY node.exe\nEXPORTS\n${[...names]
      .sort()
      .map((n) => `  ${n}\n`)
      .join('')}`,
  );
  const library = join(dir, 'libnode.a');
  await run('x86_64-w64-mingw32-dlltool', ['-d', def, '-l', library]);
  return library;
}
