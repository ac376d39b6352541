// The systemd units in the repo (apps/<role>/systemd/tunkit-<role>@.service): what they must say
// (Type=notify, a non-root User= with CAP_NET_ADMIN, --cleanup before the start, ExecReload,
// Restart=on-failure), and `systemd-analyze verify` finds nothing to say about them. verify needs
// no systemd as PID 1 (it runs in a container), but checks that each Exec program exists: the
// installed path /usr/bin/tunkit-<role> is pointed at a wrapper of this checkout's build.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const haveAnalyze = spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0;
const why = 'systemd-analyze is not installed (apt-get install --no-install-recommends systemd)';
if (!haveAnalyze && process.env.CI === 'true')
  throw new Error(`the systemd unit checks must run in CI but cannot: ${why}`);
if (!haveAnalyze) console.log(`# skipping systemd-analyze verify: ${why}`);

/** Runs systemd-analyze verify on `unit` (its text), as instance wg0, with `program` pointing at the build. */
function verify(role: string, unit: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tunkit-units-'));
  try {
    const program = join(dir, `tunkit-${role}`);
    writeFileSync(program, `#!/bin/sh\nexec '${process.execPath}' '${ROOT}/apps/${role}/dist/main.js' "$@"\n`);
    chmodSync(program, 0o755);
    const path = join(dir, `tunkit-${role}@.service`);
    writeFileSync(path, unit.replaceAll(`/usr/bin/tunkit-${role}`, program));
    const run = spawnSync('systemd-analyze', ['verify', '--man=no', join(dir, `tunkit-${role}@wg0.service`)], {
      encoding: 'utf8',
    });
    return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('systemd units', () => {
  for (const role of ['gateway', 'headless']) {
    const unit = readFileSync(join(ROOT, 'apps', role, 'systemd', `tunkit-${role}@.service`), 'utf8');

    it(`tunkit-${role}@.service says what the daemon needs`, () => {
      const directives = new Map<string, string[]>();
      for (const line of unit.split('\n')) {
        const match = /^([A-Za-z]+)=(.*)$/.exec(line);
        if (match)
          directives.set(match[1] as string, [...(directives.get(match[1] as string) ?? []), match[2] as string]);
      }
      const one = (key: string) => directives.get(key)?.join('\n');
      assert.equal(one('Type'), 'notify');
      assert.equal(one('Restart'), 'on-failure');
      assert.equal(one('ExecReload'), '/bin/kill -HUP $MAINPID');
      assert.equal(one('ExecStartPre'), `/usr/bin/tunkit-${role} --cleanup %i`);
      assert.match(one('ExecStart') ?? '', new RegExp(`^/usr/bin/tunkit-${role} %i `));
      assert.equal(one('AmbientCapabilities'), 'CAP_NET_ADMIN');
      assert.ok(one('User') && one('User') !== 'root', 'a non-root user');
      assert.equal(one('RuntimeDirectory'), 'tunkit wireguard');
      assert.equal(one('RuntimeDirectoryPreserve'), 'yes', 'a crash’s journal outlives the unit');
    });

    it(`systemd-analyze verify has nothing to say about tunkit-${role}@.service`, { skip: !haveAnalyze && why }, () => {
      const result = verify(role, unit);
      assert.equal(result.status, 0, result.output);
      assert.equal(result.output, '');
      // ...and it does speak up when a unit is wrong, so the empty output above means something.
      const broken = verify(role, unit.replace('Restart=on-failure', 'Restart=sometimes'));
      assert.match(broken.output, /Failed to parse service restart specifier/);
    });
  }
});
