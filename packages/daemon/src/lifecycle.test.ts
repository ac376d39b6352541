// The Lifecycle: real signals to this process. SIGTERM/SIGINT/SIGQUIT stop (exit 0), an uncaught
// exception stops (exit 1), SIGHUP reloads one at a time; dispose() gives Node's defaults back.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { exitCodeOf, Lifecycle } from './lifecycle.js';
import { createLogger } from './logger.js';

const quiet = () => createLogger({ level: 'fatal', format: 'json', name: 'test' });
/** Awaits `promise` with a timer running: signal handles do not keep Node's event loop alive. */
async function within<T>(promise: Promise<T>, ms = 2000): Promise<T> {
  const timer = setTimeout(() => {}, ms);
  try {
    return await promise;
  } finally {
    clearTimeout(timer);
  }
}
const listeners = () =>
  ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGHUP', 'uncaughtException'].map((e) => process.listenerCount(e));

describe('Lifecycle', () => {
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const) {
    it(`stops on ${signal} with exit code 0 and cancels a start under way`, async () => {
      const lifecycle = new Lifecycle(quiet());
      try {
        process.kill(process.pid, signal);
        const reason = await within(lifecycle.stopped);
        assert.deepEqual(reason, { kind: 'signal', signal });
        assert.equal(exitCodeOf(reason), 0);
        assert.equal(lifecycle.cancel.signal.aborted, true);
      } finally {
        lifecycle.dispose();
      }
    });
  }

  it('keeps the first reason: a device that ended, then a signal, exits 1', async () => {
    const lifecycle = new Lifecycle(quiet());
    try {
      lifecycle.stop({ kind: 'device-ended', error: new Error('EBADFD') });
      lifecycle.stop({ kind: 'signal', signal: 'SIGTERM' });
      const reason = await within(lifecycle.stopped);
      assert.equal(reason.kind, 'device-ended');
      assert.equal(exitCodeOf(reason), 1);
    } finally {
      lifecycle.dispose();
    }
  });

  // In a child process: node's test runner claims this process's uncaught exceptions for itself.
  for (const [what, fault] of [
    ['an uncaught exception', "setImmediate(() => { throw new Error('injected'); });"],
    ['an unhandled rejection', "Promise.reject(new Error('injected'));"],
  ]) {
    it(`turns ${what} into a stop with exit code 1`, () => {
      const script = `
        import { Lifecycle, exitCodeOf } from ${JSON.stringify(new URL('./lifecycle.ts', import.meta.url).href)};
        import { createLogger } from ${JSON.stringify(new URL('./logger.ts', import.meta.url).href)};
        const lifecycle = new Lifecycle(createLogger({ level: 'fatal', format: 'json', name: 't' }));
        const keep = setTimeout(() => {}, 2000);
        ${fault}
        const reason = await lifecycle.stopped;
        clearTimeout(keep);
        lifecycle.dispose();
        console.log(JSON.stringify({ kind: reason.kind, message: reason.error.message }));
        process.exitCode = exitCodeOf(reason);`;
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
      });
      assert.equal(child.status, 1, child.stderr);
      assert.deepEqual(JSON.parse(child.stdout), { kind: 'fatal', message: 'injected' });
    });
  }

  it('serves SIGHUP one reload at a time: a SIGHUP during the start waits for it, more during a reload make one more', async () => {
    const lifecycle = new Lifecycle(quiet());
    try {
      process.kill(process.pid, 'SIGHUP'); // during the "start": not lost, not fatal
      await sleep(20);
      let running = 0;
      let most = 0;
      let count = 0;
      lifecycle.serveReloads(async () => {
        running++;
        most = Math.max(most, running);
        count++;
        if (count === 1) {
          process.kill(process.pid, 'SIGHUP');
          process.kill(process.pid, 'SIGHUP');
        }
        await sleep(30);
        running--;
      });
      await sleep(150);
      await lifecycle.reloadsSettled();
      assert.equal(count, 2, 'the SIGHUP of the start, then one for the two during it');
      assert.equal(most, 1);
      lifecycle.stop({ kind: 'signal', signal: 'SIGTERM' });
      process.kill(process.pid, 'SIGHUP'); // ignored while stopping
      await sleep(20);
      assert.equal(count, 2);
    } finally {
      lifecycle.dispose();
    }
  });

  it('a reload that throws is logged and the daemon goes on', async () => {
    const lines: string[] = [];
    const log = createLogger({
      level: 'info',
      format: 'json',
      name: 'test',
      destination: { write: (l: string) => lines.push(l) } as unknown as NodeJS.WritableStream,
    });
    const lifecycle = new Lifecycle(log);
    try {
      lifecycle.serveReloads(async () => {
        throw new Error('config /x: line 3: bad');
      });
      process.kill(process.pid, 'SIGHUP');
      await sleep(20);
      await lifecycle.reloadsSettled();
      assert.equal(lifecycle.stopping, false);
      const failed = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'reload failed');
      assert.deepEqual(
        failed.map((l) => l.error),
        ['config /x: line 3: bad'],
      );
    } finally {
      lifecycle.dispose();
    }
  });

  it('dispose() removes every handler it added', () => {
    const before = listeners();
    const lifecycle = new Lifecycle(quiet());
    assert.notDeepEqual(listeners(), before);
    lifecycle.dispose();
    assert.deepEqual(listeners(), before);
  });
});
