import assert from 'node:assert/strict';
import fs, { mkdtempSync, statSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TunConfigError, type TunOsError } from '@tunkit/tun-core';
import { uapiRequest } from '../testing/uapi-client.js';
import { UapiServer } from './uapi-server.js';

describe('UapiServer', () => {
  it('frames get and set requests, answers with errno (negated, as wireguard-go), and rejects unknown operations', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunkit-uapi-'));
    const seen: string[] = [];
    const server = await UapiServer.listen({
      name: 'tk-test0',
      dir,
      handler: async (operation, body) => {
        seen.push(`${operation}:${body}`);
        return operation === 'get' ? { lines: 'listen_port=51820\n', errno: 0 } : { lines: '', errno: 0 };
      },
    });
    try {
      assert.equal(statSync(server.path).mode & 0o777, 0o600);
      assert.equal(await uapiRequest(server.path, 'get=1\n\n'), 'listen_port=51820\nerrno=0\n\n');
      assert.equal(await uapiRequest(server.path, 'set=1\nlisten_port=1234\n\n'), 'errno=0\n\n');
      assert.equal(await uapiRequest(server.path, 'bogus=1\n\n'), 'errno=-22\n\n');
      assert.deepEqual(seen, ['get:', 'set:listen_port=1234']);
      // A second daemon with the same name is refused while the first is alive.
      await assert.rejects(
        UapiServer.listen({ name: 'tk-test0', dir, handler: async () => ({ lines: '', errno: 0 }) }),
        (e: TunOsError) => e.errno === 'EADDRINUSE' && e.message.includes('already running'),
      );
    } finally {
      await server.close();
    }
    // After close the name is free again.
    const again = await UapiServer.listen({ name: 'tk-test0', dir, handler: async () => ({ lines: '', errno: 0 }) });
    await again.close();
  });

  it('turns a failing handler into errno=-5 (EIO) and refuses bad names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunkit-uapi-'));
    const server = await UapiServer.listen({
      name: 'tk-test1',
      dir,
      handler: async () => {
        throw new Error('bug');
      },
    });
    try {
      assert.equal(await uapiRequest(server.path, 'get=1\n\n'), 'errno=-5\n\n');
    } finally {
      await server.close();
    }
    await assert.rejects(
      UapiServer.listen({ name: '../etc', dir, handler: async () => ({ lines: '', errno: 0 }) }),
      TunConfigError,
    );
  });

  it('creates the socket owner-only: no moment between listen and chmod where others may connect', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunkit-uapi-'));
    // What the socket's mode is when chmod comes to narrow it: under a permissive umask, the old
    // listen-then-chmod left it 0777 until then.
    const modesBeforeChmod: number[] = [];
    const chmodSync = fs.chmodSync;
    fs.chmodSync = (path, mode) => {
      modesBeforeChmod.push(statSync(path).mode & 0o777);
      chmodSync(path, mode);
    };
    syncBuiltinESMExports();
    const umask = process.umask(0);
    let server: UapiServer | undefined;
    try {
      server = await UapiServer.listen({ name: 'tk-umask0', dir, handler: async () => ({ lines: '', errno: 0 }) });
      assert.equal(process.umask(), 0, "the process's umask is given back");
    } finally {
      process.umask(umask);
      fs.chmodSync = chmodSync;
      syncBuiltinESMExports();
      await server?.close();
    }
    assert.deepEqual(modesBeforeChmod, [0o700]);
  });
});
