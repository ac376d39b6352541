// The prebuilt addons, checked as files on this Linux machine (scripts/prebuilds/check.mjs): the
// glibc symbol check (objdump -T: nothing newer than GLIBC_2.28), the darwin link check (both
// arches: exports, libSystem only, only N-API and Node's OpenSSL left to dynamic lookup), the musl
// and Windows imports; and that each check fails on a binary that would not load on its target.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { prebuildPackages } from '../prebuilds/build.mjs';
import { checkPrebuild } from '../prebuilds/check.mjs';
import { prebuildPath, targetById } from '../prebuilds/targets.mjs';
import { zig } from '../prebuilds/toolchains.mjs';
import { prebuildsSkipReason } from './prebuilds-present.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const skip = prebuildsSkipReason(root);

describe('prebuilt addons', { skip }, () => {
  for (const pkg of prebuildPackages(root)) {
    for (const id of pkg.targets) {
      const target = targetById(id);
      const file = join(pkg.dir, 'native', prebuildPath(target, pkg.addon));
      it(`${pkg.name} ${id} fits its target`, () => {
        assert.ok(existsSync(file), `${file} is missing: run node scripts/prebuilds.mjs`);
        const { problems, facts } = checkPrebuild(file, target);
        assert.deepEqual(problems, [], `${file}: ${problems.join('; ')}`);
        console.log(`# ${pkg.name} ${id}: ${facts.join('; ')}`);
      });
    }
  }

  it('the glibc check refuses an addon linked against this machine’s newer glibc and libstdc++', () => {
    // The workspace's own node-gyp build (system g++, Debian 12: glibc 2.36, libstdc++).
    const local = join(root, 'packages', 'tun-linux', 'native', 'build', 'Release', 'tunkit_linux.node');
    assert.ok(existsSync(local), `${local} is missing: build the workspace first`);
    const { problems } = checkPrebuild(local, targetById('linux-x64-glibc'));
    assert.ok(
      problems.some((p) => /newer than 2\.28/.test(p)),
      problems.join('; '),
    );
    assert.ok(
      problems.some((p) => /libstdc\+\+/.test(p)),
      problems.join('; '),
    );
    assert.ok(checkPrebuild(local, targetById('linux-arm64-glibc')).problems.some((p) => /not arm64/.test(p)));
  });

  it('the darwin check refuses a Linux-only call left to dynamic lookup, and a foreign CPU', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunkit-macho-'));
    try {
      const source = join(dir, 'bad.c');
      // eventfd exists on Linux only: with -undefined dynamic_lookup it links, and would fail on a Mac.
      writeFileSync(
        source,
        'int eventfd(unsigned, int);\nint napi_register_module_v1(void) { return eventfd(0, 0); }\n',
      );
      const { command, env } = zig(root);
      const out = join(dir, 'bad.node');
      execFileSync(
        command,
        ['cc', '-target', 'aarch64-macos.11.0', '-shared', '-Wl,-undefined,dynamic_lookup', '-o', out, source],
        {
          env: { ...process.env, ...env },
        },
      );
      const arm64 = checkPrebuild(out, targetById('darwin-arm64')).problems;
      assert.ok(
        arm64.some((p) => /not provided by node: _eventfd/.test(p)),
        arm64.join('; '),
      );
      assert.ok(checkPrebuild(out, targetById('darwin-x64')).problems.some((p) => /not x64/.test(p)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
