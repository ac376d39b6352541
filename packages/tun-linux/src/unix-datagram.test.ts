// sendUnixDatagram to real AF_UNIX datagram sockets (a python3 listener: Node cannot bind one),
// at a path and in the abstract namespace; errors name the path.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TunConfigError, TunOsError } from '@tunkit/tun-core';
import { sendUnixDatagram } from './unix-datagram.js';

const LISTENER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
path = sys.argv[1]
s.bind('\\0' + path[1:] if path.startswith('@') else path)
print('ready', flush=True)
for _ in range(int(sys.argv[2])):
    print(repr(s.recv(65536)), flush=True)
`;

/** Listens at `path` for `count` datagrams; resolves them once received. */
async function listen(path: string, count: number): Promise<{ received: Promise<string[]> }> {
  const child = spawn('python3', ['-c', LISTENER, path, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let buffered = '';
  let onReady!: () => void;
  const ready = new Promise<void>((r) => {
    onReady = r;
  });
  child.stdout.on('data', (d) => {
    buffered += d;
    for (let n = buffered.indexOf('\n'); n >= 0; n = buffered.indexOf('\n')) {
      const line = buffered.slice(0, n);
      buffered = buffered.slice(n + 1);
      if (line === 'ready') onReady();
      else lines.push(line);
    }
  });
  await ready;
  return { received: new Promise((resolve) => child.once('exit', () => resolve(lines))) };
}

describe('sendUnixDatagram', () => {
  it('sends one datagram per call to a socket at a path and in the abstract namespace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunkit-notify-'));
    try {
      const path = join(dir, 'notify');
      const listener = await listen(path, 2);
      sendUnixDatagram(path, 'READY=1\nSTATUS=up');
      sendUnixDatagram(path, new Uint8Array([83, 84, 79, 80, 80, 73, 78, 71, 61, 49]));
      assert.deepEqual(await listener.received, ["b'READY=1\\nSTATUS=up'", "b'STOPPING=1'"]);
      const abstract = `@tunkit-notify-test-${process.pid}`;
      const hidden = await listen(abstract, 1);
      sendUnixDatagram(abstract, 'RELOADING=1');
      assert.deepEqual(await hidden.received, ["b'RELOADING=1'"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('throws TunOsError naming the path when nothing listens, TunConfigError for a bad path', () => {
    assert.throws(
      () => sendUnixDatagram('/nonexistent/tunkit/notify', 'READY=1'),
      (e: TunOsError) =>
        e instanceof TunOsError && e.errno === 'ENOENT' && e.message.includes('/nonexistent/tunkit/notify'),
    );
    assert.throws(() => sendUnixDatagram('', 'x'), TunConfigError);
    assert.throws(() => sendUnixDatagram(`/${'x'.repeat(200)}`, 'x'), TunConfigError);
  });
});
