// Deterministic shutdown: a worker that ends with a device still open (a recvMany pending, writes
// held, so libuv's poll and timer handles are active) must not crash or hang the process: the
// environment cleanup hook closes the device and Node waits until libuv has released the handles.
import assert from 'node:assert/strict';
import { closeSync, readdirSync, readlinkSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';

describe('DarwinTun environment cleanup', { timeout: 20_000 }, () => {
  it('a worker terminated with an open device exits cleanly, and its fd is closed', async () => {
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
    // The device works on a duplicate of deviceFd: while it is open, two fds name the same socket.
    const socket = readlinkSync(`/proc/self/fd/${opened.deviceFd}`);
    assert.equal(fdsNaming(socket), 2, 'the device holds a duplicate of the fd it was given');
    const exitCode = await worker.terminate();
    assert.equal(exitCode, 1, 'terminate() ends the worker with exit code 1');
    // The cleanup hook closed the duplicate; the worker's original stays open (fds belong to the
    // process) and is closed here, with the peer.
    assert.equal(fdsNaming(socket), 1, 'the device closed its duplicate when the worker ended');
    closeSync(opened.deviceFd);
    closeSync(opened.peerFd);
    assert.equal(fdsNaming(socket), 0);
  });
});

/** How many of this process's fds refer to `target` (a /proc/self/fd link such as "socket:[123]"). */
function fdsNaming(target: string): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === target) count++;
    } catch {
      // closed while listing (the directory's own fd)
    }
  }
  return count;
}
