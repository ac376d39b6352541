// Deterministic shutdown: a worker that ends with a device still open (a recvMany pending, writes
// held, so libuv's poll and timer handles are active) must not crash or hang the process: the
// environment cleanup hook closes the device and Node waits until libuv has released the handles.
import assert from 'node:assert/strict';
import { closeSync, existsSync, fstatSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';

describe('DarwinTun environment cleanup', { timeout: 20_000 }, () => {
  it('a worker terminated with an open device exits cleanly, and its fd is closed', async () => {
    // Open fds of this process, where /proc tells (Linux): the same before and after.
    const openFds = () => (existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : 0);
    const before = openFds();
    // Node 20 does not apply --import hooks to a worker's entry: the worker registers tsx itself.
    const tsx = import.meta.resolve('tsx/esm/api');
    const fixture = new URL('./fixtures/open-in-worker.ts', import.meta.url).href;
    const code = `(async () => { (await import(${JSON.stringify(tsx)})).register(); await import(${JSON.stringify(fixture)}); })()`;
    const worker = new Worker(code, { eval: true });
    const opened = await new Promise<{ deviceFd: number; peerFd: number; deferred: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    assert.ok(opened.deferred > 0, 'writes were held when the worker ended');
    const exitCode = await worker.terminate();
    assert.equal(exitCode, 1, 'terminate() ends the worker with exit code 1');
    // fromFd worked on a duplicate; the cleanup hook closed it. The worker's original stays open
    // (fds belong to the process) and is closed here; the peer too.
    closeSync(opened.deviceFd);
    closeSync(opened.peerFd);
    assert.throws(() => fstatSync(opened.peerFd), { code: 'EBADF' });
    assert.equal(openFds(), before, 'no fd left open: the device closed its duplicate');
  });
});
