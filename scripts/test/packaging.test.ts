// What an npm user gets: every publishable package packed (as the release packs it), the tarballs
// checked, then installed with `npm install --ignore-scripts` (so only the prebuilds count, no
// compiler) into an empty project outside the workspace, and used from there: require() and
// import of every entry of every package, the AEAD backend native (loaded from the installed
// prebuild), `tunkit-gateway --version`, and as root a TUN opened with the installed
// @tunkit/tun-linux in a network namespace of its own.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { privilegedSuite } from '../../packages/tun-core/src/testing/privileges.ts';
import { checkTarball, packPackages, publishablePackages } from '../release/pack.mjs';
import { prebuildsSkipReason } from './prebuilds-present.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const skip = prebuildsSkipReason(root);

interface Packed {
  name: string;
  version: string;
  dir: string;
  manifest: { exports?: Record<string, unknown>; bin?: Record<string, string>; os?: string[] };
  tarball: string;
}

describe('the published packages, installed from their tarballs', { skip, timeout: 600_000 }, () => {
  let work: string;
  let project: string;
  let packed: Packed[];

  /** Runs node in the installed project with `script` (CommonJS, or ESM with --input-type=module). */
  const nodeIn = (script: string, { module = false, wrap = [] as string[] } = {}) => {
    const args = [...(module ? ['--input-type=module'] : []), '-e', script];
    const [command, ...rest] = [...wrap, process.execPath, ...args] as [string, ...string[]];
    const result = spawnSync(command, rest, { cwd: project, encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, `${result.stderr}\n${result.stdout}`);
    return result.stdout.trim();
  };

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'tunkit-packaging-'));
    const tarballs = join(work, 'tarballs');
    project = join(work, 'project');
    mkdirSync(tarballs);
    mkdirSync(project);
    packed = packPackages(root, publishablePackages(root), tarballs);
    writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'tunkit-user', private: true })}\n`);
    // --force: the tarballs of the other platforms' packages (os: win32, darwin, android) go in too,
    // so that each package's JavaScript entry is required and imported here as well.
    execFileSync(
      'npm',
      [
        'install',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--force',
        '--loglevel=error',
        ...packed.map((p) => p.tarball),
      ],
      { cwd: project, stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 },
    );
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('each tarball holds its prebuilds and no tests or unneeded sources, within the size bound', () => {
    for (const pkg of packed) {
      const result = checkTarball(pkg, pkg.tarball);
      assert.deepEqual(result.problems, [], `${pkg.name}: ${result.problems.join('; ')}`);
      console.log(
        `# ${pkg.name}: ${result.tarballBytes} bytes packed, ${result.unpackedBytes} unpacked, ${result.files} files, prebuilds: ${result.prebuilds.join(', ') || 'none'}`,
      );
    }
  });

  it('every entry of every package loads with require() and with import', () => {
    const entries = packed.flatMap((pkg) =>
      Object.keys(pkg.manifest.exports ?? {})
        .filter((key) => key !== './package.json' && !key.startsWith('./native'))
        .map((key) => (key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`)),
    );
    assert.ok(entries.includes('@tunkit/tun-core/testing') && entries.includes('@tunkit/wireguard'), entries.join(' '));
    const list = JSON.stringify(entries);
    const required = JSON.parse(
      nodeIn(`console.log(JSON.stringify(${list}.map((e) => [e, Object.keys(require(e)).length])))`),
    ) as [string, number][];
    const imported = JSON.parse(
      nodeIn(
        `const r = []; for (const e of ${list}) r.push([e, Object.keys(await import(e)).length]); console.log(JSON.stringify(r))`,
        {
          module: true,
        },
      ),
    ) as [string, number][];
    for (const [entry, count] of [...required, ...imported]) assert.ok(count > 0, `${entry} exports nothing`);
    // The ESM and CommonJS builds export the same names.
    assert.deepEqual(imported, required);
  });

  it('@tunkit/wireguard runs its native AEAD from the installed prebuild, silently', () => {
    const script = `
      const wg = require('@tunkit/wireguard');
      const path = require('node-gyp-build').resolve(require('node:path').join(require.resolve('@tunkit/wireguard/package.json'), '..', 'native'));
      console.log(JSON.stringify({ aead: wg.defaultAead().name, path }));`;
    const result = spawnSync(process.execPath, ['-e', script], { cwd: project, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, '', 'loading the addon writes nothing');
    const seen = JSON.parse(result.stdout);
    assert.match(seen.aead, /^native \(OpenSSL /);
    assert.equal(
      seen.path,
      join(project, 'node_modules/@tunkit/wireguard/native/prebuilds/linux-x64/tunkit_wireguard.napi.glibc.node'),
    );
  });

  it('builds the addon from the shipped sources where no prebuild fits (the install script, node-gyp)', () => {
    // As on a platform without a prebuild: the prebuilds are gone, and `npm rebuild` runs the
    // package's install script, which builds with node-gyp and the node-addon-api dependency.
    const pkgDir = join(project, 'node_modules/@tunkit/wireguard');
    rmSync(join(pkgDir, 'native/prebuilds'), { recursive: true });
    const nodedir = existsSync('/usr/include/node/node_api.h') ? { npm_config_nodedir: '/usr' } : {};
    execFileSync('npm', ['rebuild', '@tunkit/wireguard', '--foreground-scripts', '--loglevel=error'], {
      cwd: project,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, ...nodedir },
      timeout: 300_000,
    });
    const script = `
      const wg = require('@tunkit/wireguard');
      const path = require('node-gyp-build').resolve(require('node:path').join(require.resolve('@tunkit/wireguard/package.json'), '..', 'native'));
      console.log(JSON.stringify({ aead: wg.defaultAead().name, path }));`;
    const seen = JSON.parse(nodeIn(script));
    assert.equal(seen.path, join(pkgDir, 'native/build/Release/tunkit_wireguard.node'));
    assert.match(seen.aead, /^native \(OpenSSL /);
  });

  it('tunkit-gateway --version and tunkit-headless --version print the package version', () => {
    for (const app of ['gateway', 'headless']) {
      const version = packed.find((p) => p.name === `@tunkit/${app}`)?.version;
      const out = execFileSync(join(project, 'node_modules', '.bin', `tunkit-${app}`), ['--version'], {
        encoding: 'utf8',
      });
      assert.equal(out.trim(), `tunkit-${app} ${version}`);
    }
    const installed = JSON.parse(readFileSync(join(project, 'node_modules/@tunkit/gateway/package.json'), 'utf8'));
    assert.ok(!JSON.stringify(installed).includes('workspace:'), 'no workspace: ranges in a published package.json');
  });

  it(
    'opens a TUN with the installed @tunkit/tun-linux and its prebuild (root, own network namespace)',
    privilegedSuite('a TUN from the installed package'),
    () => {
      const script = `
      const { openTun } = require('@tunkit/tun-linux');
      const path = require('node-gyp-build').resolve(require('node:path').join(require.resolve('@tunkit/tun-linux/package.json'), '..', 'native'));
      openTun({ name: 'tkpkg0', queues: 2, addresses: ['10.98.0.1/24'] }).then(async (tun) => {
        console.log(JSON.stringify({ name: tun.name, mtu: tun.mtu, path }));
        await tun.close();
      });`;
      const seen = JSON.parse(nodeIn(script, { wrap: ['unshare', '--net'] }));
      assert.deepEqual(seen, {
        name: 'tkpkg0',
        mtu: seen.mtu,
        path: join(project, 'node_modules/@tunkit/tun-linux/native/prebuilds/linux-x64/tunkit_linux.napi.glibc.node'),
      });
      assert.ok(seen.mtu > 0);
    },
  );
});
