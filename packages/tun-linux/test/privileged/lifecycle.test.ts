// Lifetimes the user does not end with close(): a process that exits with a device open, a
// worker terminated with one open, an open that fails half-way inside the addon, and an interface
// removed under an open device. Each must end promptly, without a crash, and leave no device, fd
// or thread behind.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { openTun } from '../../src/index.js';
import { packageDir, spawnScript } from './children.js';
import { enterTestNamespace } from './kernel-side.js';

const { skip } = enterTestNamespace('tun-linux lifecycle');

function linkExists(name: string): boolean {
  try {
    execFileSync('ip', ['link', 'show', 'dev', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Opens a device, with packets in flight, and never closes it. */
const OPEN_AND_LEAVE = (name: string, then: string) => `
const { openTun } = await import('./src/index.ts');
const tun = await openTun({ name: '${name}', queues: 2, addresses: ['10.91.0.1/24'] });
void tun.recvMany(new (await import('@tunkit/tun-core')).PacketBatch());
const dgram = await import('node:dgram');
const socket = dgram.createSocket('udp4');
for (let i = 0; i < 200; i++) socket.send(Buffer.alloc(100), 9, '10.91.0.2');
setTimeout(() => { console.log('open'); ${then} }, 50);
`;

/** Opens a device when told to (the test lowers its fd limit first) and reports how that went. */
const OPEN_WHEN_TOLD = `
import { createInterface } from 'node:readline';
const { openTun } = await import('./src/index.ts');
const { native } = await import('./src/native.ts');
native();
const lines = createInterface({ input: process.stdin });
const next = (() => { const it = lines[Symbol.asyncIterator](); return () => it.next(); })();
console.log('ready');
await next();
try {
  await openTun({ name: 'tkfail0', queues: 2, offload: false });
  console.log('opened');
} catch (e) {
  console.log(JSON.stringify({ name: e.name, errno: e.errno, syscall: e.syscall, message: e.message }));
}
await next();
lines.close();
`;

/**
 * Opens and closes devices in a tight loop, collecting garbage as it goes, then lets the event
 * loop run: a wake-up queued at close (the channel's close notifies) must be dropped, never run
 * against a device the garbage collector may already have freed.
 */
const CLOSE_WITH_WAKE_QUEUED = `
const { native } = await import('./src/native.ts');
const { TunDevice } = native();
let calls = 0;
for (let i = 0; i < 100; i++) {
  const device = new TunDevice({ queues: 2, mtu: 1420, inboundSlots: 16, outboundSlots: 16, offload: false }, () => calls++);
  device.close();
  if (i % 25 === 24) globalThis.gc();
}
globalThis.gc();
for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
console.log(JSON.stringify({ calls }));
`;

/**
 * Opens a 2-queue device and waits in recvMany until the interface is removed under it (the test
 * runs `ip link del`), then reports what the device says and its own fds and threads before the
 * open and after the end, and lets its event loop run out.
 */
const WAIT_FOR_END = `
const { readdirSync } = await import('node:fs');
const { PacketBatch } = await import('@tunkit/tun-core');
const { openTun } = await import('./src/index.ts');
const count = () => ({ fds: readdirSync('/proc/self/fd').length, threads: readdirSync('/proc/self/task').length });
await (await openTun({ name: 'tkend0', queues: 2 })).close(); // loads the addon and whatever it starts once
const before = count();
const tun = await openTun({ name: 'tkend0', queues: 2, addresses: ['10.94.0.1/24'] });
const pending = tun.recvMany(new PacketBatch());
console.log('open');
const received = await pending;
await new Promise((r) => setTimeout(r, 100));
const e = tun.endedBy;
console.log(JSON.stringify({ received, closed: tun.closed, name: e?.name, errno: e?.errno, syscall: e?.syscall,
  message: e?.message, rxErrors: tun.stats().rxErrors, before, after: count() }));
`;

const childFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).map(Number);
const childThreads = (pid: number) => readdirSync(`/proc/${pid}/task`).length;

describe('LinuxTun lifecycle', { skip }, () => {
  it('an open that fails half-way in the addon throws TunOsError and leaves nothing behind', async () => {
    const child = spawnScript(OPEN_WHEN_TOLD);
    try {
      assert.equal(await child.line(20_000), 'ready');
      const pid = child.process.pid as number;
      await new Promise((r) => setTimeout(r, 200)); // let the child settle: no fd opened meanwhile
      const fds = childFds(pid);
      const threads = childThreads(pid);
      // Room for exactly three new fds: the two queue fds and the first queue thread's eventfd;
      // the second eventfd fails (EMFILE) after the first queue is fully built.
      const used = new Set(fds);
      let limit = 0;
      for (let free = 0; free < 3; limit++) if (!used.has(limit)) free++;
      const [, soft, hard] = /Max open files\s+(\d+)\s+(\d+)/.exec(readFileSync(`/proc/${pid}/limits`, 'utf8')) ?? [];
      execFileSync('prlimit', ['--pid', String(pid), `--nofile=${limit}:${hard}`]);
      child.send('open');
      const result = JSON.parse(await child.line());
      execFileSync('prlimit', ['--pid', String(pid), `--nofile=${soft}:${hard}`]);
      assert.equal(result.name, 'TunOsError', JSON.stringify(result));
      assert.equal(result.errno, 'EMFILE');
      assert.equal(result.syscall, 'eventfd');
      assert.match(result.message, /eventfd/);
      assert.deepEqual(childFds(pid).sort(), fds.sort(), 'fds left open');
      assert.equal(childThreads(pid), threads, 'threads left running');
      assert.equal(linkExists('tkfail0'), false, 'the half-opened device is still there');
      child.send('end');
      const { code, signal, ms } = await child.exit();
      assert.equal(signal, null, child.stderr());
      assert.equal(code, 0, child.stderr());
      assert.ok(ms < 3000, `the child took ${ms} ms to end: something keeps its loop alive`);
    } finally {
      child.process.kill('SIGKILL');
    }
  });

  it('an interface removed under it ends the device: recvMany resolves 0, endedBy says EBADFD, nothing printed or left', async () => {
    const child = spawnScript(WAIT_FOR_END);
    try {
      assert.equal(await child.line(20_000), 'open', child.stderr());
      execFileSync('ip', ['link', 'del', 'dev', 'tkend0']);
      const result = JSON.parse(await child.line(3_000));
      assert.equal(result.received, 0, 'recvMany did not resolve 0 at the end');
      assert.equal(result.closed, true);
      assert.equal(result.name, 'TunOsError');
      assert.equal(result.errno, 'EBADFD');
      assert.equal(result.syscall, 'read');
      assert.match(result.message, /tkend0 was removed/);
      assert.ok(result.rxErrors >= 1);
      assert.deepEqual(result.after, result.before, 'the ended device left fds or threads behind');
      // Nothing keeps the loop alive once the device ended, and the end is reported through the
      // Tun only: no plain-text line on stderr.
      const { code, signal, ms } = await child.exit();
      assert.equal(signal, null, child.stderr());
      assert.equal(code, 0, child.stderr());
      assert.ok(ms < 3000, `the child took ${ms} ms to end after the device did`);
      assert.equal(child.stderr(), '');
    } finally {
      child.process.kill('SIGKILL');
    }
  });

  it('drops a wake-up queued at close instead of running it after the device is gone', async () => {
    const child = spawnScript(CLOSE_WITH_WAKE_QUEUED, { nodeOptions: ['--expose-gc'] });
    const result = JSON.parse(await child.line(60_000));
    assert.equal(result.calls, 0, 'onWake ran after close: a queued call outlived its device');
    const { code, signal } = await child.exit();
    assert.equal(signal, null, child.stderr());
    assert.equal(code, 0, child.stderr());
  });

  it('counts the packets still waiting for recvMany at close as dropped, for the device', async () => {
    const tun = await openTun({ name: 'tkdisc0', queues: 2, addresses: ['10.93.0.1/24'] });
    const socket = createSocket('udp4');
    for (let i = 0; i < 50; i++) socket.send(Buffer.alloc(100), 9, '10.93.0.2');
    const deadline = Date.now() + 3000;
    while (tun.stats().rxPackets < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await tun.close();
    socket.close();
    const stats = tun.stats();
    assert.equal(stats.rxPackets, 50);
    assert.equal(stats.rxDiscardedAtClose, 50);
    assert.equal(stats.rxDropped, 50, 'the contract: discarded at close counts in rxDropped');
    assert.deepEqual(
      stats.queues.map((q) => q.rxDropped),
      [0, 0],
      'no queue is charged: which one read each packet is not known',
    );
  });

  it('a process that exits with the device open ends promptly and the device is gone', async () => {
    const child = spawnScript(OPEN_AND_LEAVE('tkexit0', 'process.exit(0);'));
    assert.equal(await child.line(), 'open');
    const { code, signal, ms } = await child.exit();
    assert.equal(signal, null, child.stderr());
    assert.equal(code, 0, child.stderr());
    assert.ok(ms < 3000, `exit took ${ms} ms`);
    assert.equal(linkExists('tkexit0'), false, 'the device outlived its process');
  });

  it('a process that dies on an uncaught exception with the device open ends promptly', async () => {
    const child = spawnScript(OPEN_AND_LEAVE('tkexit1', "throw new Error('boom');"));
    assert.equal(await child.line(), 'open');
    const { code, signal, ms } = await child.exit();
    assert.equal(signal, null, child.stderr());
    assert.equal(code, 1, child.stderr());
    assert.match(child.stderr(), /boom/);
    assert.ok(ms < 3000, `exit took ${ms} ms`);
    assert.equal(linkExists('tkexit1'), false);
  });

  it('worker.terminate() with a device open ends promptly, leaving no fd or thread', async () => {
    const fdsBefore = childFds(process.pid).length;
    const threadsBefore = childThreads(process.pid);
    for (let round = 0; round < 5; round++) {
      const worker = new Worker(
        `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(`${packageDir}/test/privileged/lifecycle-worker.ts`)}); });`,
        { eval: true, workerData: { name: 'tkwork0', round } },
      );
      const errors: Error[] = [];
      worker.on('error', (error) => errors.push(error));
      await new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('exit', (code) => reject(new Error(`worker exited early with ${code}: ${errors.join(' ')}`)));
      });
      assert.equal(linkExists('tkwork0'), true);
      const start = Date.now();
      await worker.terminate();
      const ms = Date.now() - start;
      assert.ok(ms < 3000, `terminate took ${ms} ms`);
      assert.deepEqual(errors, []);
      assert.equal(linkExists('tkwork0'), false, 'the device outlived its worker');
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(childFds(process.pid).length, fdsBefore, 'fds left open by terminated workers');
    assert.equal(childThreads(process.pid), threadsBefore, 'threads left running by terminated workers');
  });
});
