// The tarball check of the release (scripts/release/pack.mjs) refuses what must not be published:
// a missing prebuild or entry file, tests, TypeScript sources, a C++ source no build of the
// package's platforms compiles.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkTarball } from '../release/pack.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('the release tarball check', () => {
  it('names each thing that must not be published', () => {
    const dir = join(root, 'packages', 'wireguard');
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const work = mkdtempSync(join(tmpdir(), 'tunkit-release-check-'));
    try {
      const files: Record<string, string> = {
        'package.json': '{}',
        LICENSE: 'MIT',
        'README.md': '# x',
        'dist/index.js': '',
        'src/index.ts': '',
        'dist/device.test.js': '',
        'native/aead_batch.cc': '',
        'native/unused.cc': '',
        'native/prebuilds/linux-x64/tunkit_wireguard.napi.glibc.node': '',
      };
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(work, 'package', path)), { recursive: true });
        writeFileSync(join(work, 'package', path), text);
      }
      const tarball = join(work, 'bad.tgz');
      execFileSync('tar', ['czf', tarball, '-C', work, 'package']);
      const { problems, prebuilds } = checkTarball({ name: manifest.name, dir, manifest }, tarball);
      const expect = [
        'dist/index.cjs is missing',
        'the linux-arm64-glibc prebuild (native/prebuilds/linux-arm64/tunkit_wireguard.napi.glibc.node) is missing',
        'the win32-x64 prebuild (native/prebuilds/win32-x64/tunkit_wireguard.napi.node) is missing',
        'src/index.ts is TypeScript sources, not for publishing',
        'dist/device.test.js is a test file, not for publishing',
        "native/unused.cc is compiled by no binding.gyp condition of @tunkit/wireguard's platforms",
      ];
      for (const problem of expect) assert.ok(problems.includes(problem), `${problem}\nin\n${problems.join('\n')}`);
      assert.ok(!problems.some((p) => p.includes('aead_batch.cc')), 'a compiled source is fine');
      assert.deepEqual(prebuilds, ['linux-x64-glibc']);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
