// Hooks: refused without --allow-hooks (one line naming them); run by bash with %i, in order; a
// failure or a timeout names the hook and never shows a key; SaveConfig is only warned about.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatKey, generatePrivateKey, parseWgQuick } from '@tunkit/wireguard';
import {
  checkHooksAllowed,
  downHooksBudgetMs,
  HOOK_TIMEOUT_MS,
  redactKeys,
  runHooks,
  saveConfigWarning,
} from './hooks.js';
import { StartupError } from './startup-error.js';

const key = formatKey(generatePrivateKey());
const config = (extra: string) => parseWgQuick(`[Interface]\nPrivateKey = ${key}\n${extra}\n`);
const quiet = { info: () => {} };

/** The pids whose command line is `command`. */
function processesRunning(command: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim() === command;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('hooks', () => {
  it('are refused without --allow-hooks, in one line naming them; allowed with it; none, nothing to refuse', () => {
    const hooked = config('PostUp = echo a\nPostUp = echo b\nPostDown = echo c');
    assert.throws(
      () => checkHooksAllowed(hooked, false, '/etc/wireguard/wg0.conf'),
      (e: Error) =>
        e instanceof StartupError &&
        e.message ===
          "/etc/wireguard/wg0.conf has PostUp (2 lines), PostDown: shell commands tunkit runs only with --allow-hooks (they run with the daemon's privileges, as wg-quick runs them); pass it, or remove them",
    );
    checkHooksAllowed(hooked, true, 'x');
    checkHooksAllowed(config(''), false, 'x');
    assert.equal(downHooksBudgetMs(hooked), HOOK_TIMEOUT_MS);
  });

  it('SaveConfig = true is warned about (ignored), false or absent says nothing', () => {
    assert.match(
      saveConfigWarning(config('SaveConfig = true')) ?? '',
      /^SaveConfig = true is ignored: tunkit never rewrites/,
    );
    assert.equal(saveConfigWarning(config('SaveConfig = false')), undefined);
    assert.equal(saveConfigWarning(config('')), undefined);
  });

  it('run one line at a time through bash, in order, with %i replaced, logging each', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunkit-hooks-'));
    try {
      const out = join(dir, 'out');
      const lines: Record<string, unknown>[] = [];
      await runHooks(
        'PostUp',
        [`echo first %i >> ${out}`, `for x in 1 2; do echo "$x-%i"; done >> ${out}; echo said`],
        'wg7',
        { info: (fields: Record<string, unknown>) => lines.push(fields) },
      );
      assert.equal(readFileSync(out, 'utf8'), 'first wg7\n1-wg7\n2-wg7\n');
      assert.deepEqual(
        lines.map((l) => [l.hook, l.command, l.output]),
        [
          ['PostUp', `echo first wg7 >> ${out}`, undefined],
          ['PostUp', `echo first wg7 >> ${out}`, undefined],
          ['PostUp', `for x in 1 2; do echo "$x-wg7"; done >> ${out}; echo said`, undefined],
          ['PostUp', `for x in 1 2; do echo "$x-wg7"; done >> ${out}; echo said`, 'said'],
        ],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stop at the first failing line, naming it, its exit code and its output, never a key', async () => {
    const ran: string[] = [];
    await assert.rejects(
      runHooks('PreUp', [`echo ${key} >&2; exit 3`, 'echo never'], 'wg0', {
        info: (f: Record<string, unknown>) => ran.push(String(f.command)),
      }),
      (e: Error) =>
        e instanceof StartupError &&
        e.message === 'PreUp hook failed (exit 3): echo (key redacted) >&2; exit 3 — (key redacted)' &&
        !e.message.includes(key),
    );
    assert.ok(ran.every((c) => !c.includes('never')) && ran.every((c) => !c.includes(key)));
  });

  it('kill a line that outlives the timeout, with what it started', async () => {
    const started = performance.now();
    const marker = `${30 + (process.pid % 1000) / 1000}`; // a sleep only this test starts
    await assert.rejects(
      runHooks('PostUp', [`sleep ${marker} & sleep ${marker}; echo late`], 'wg0', quiet, undefined, 300),
      new RegExp(`PostUp hook failed \\(still running after 0\\.3 s\\): sleep ${marker} & sleep ${marker}; echo late`),
    );
    assert.ok(performance.now() - started < 2000);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(processesRunning(`sleep ${marker}`), [], 'the background sleep went with the group');
  });

  it('end a line at once when the start is cancelled', async () => {
    const cancel = new AbortController();
    setTimeout(() => cancel.abort('SIGTERM'), 100);
    const started = performance.now();
    await assert.rejects(runHooks('PreUp', ['sleep 30'], 'wg0', quiet, cancel.signal), /PreUp hook failed/);
    assert.ok(performance.now() - started < 2000);
  });

  it('redactKeys replaces what looks like a key and leaves the rest', () => {
    assert.equal(
      redactKeys(`wg set wg0 peer ${key} allowed-ips 10.0.0.2/32`),
      'wg set wg0 peer (key redacted) allowed-ips 10.0.0.2/32',
    );
    assert.equal(redactKeys('iptables -A FORWARD -i wg0 -j ACCEPT'), 'iptables -A FORWARD -i wg0 -j ACCEPT');
  });
});
