// The stock `wg` tool against tunkit's UAPI socket: a refused `wg set` must print the errno the
// device meant ("Invalid argument"), which depends on the sign convention of the errno line.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { privilegedSuite } from '@tunkit/tun-core/testing';
import { EINVAL } from '../../src/config/uapi.js';
import { formatKey, generatePrivateKey, publicKeyFrom } from '../../src/protocol/keys.js';
import { UapiServer } from '../../src/uapi/uapi-server.js';

const haveWg = spawnSync('sh', ['-c', 'command -v wg']).status === 0;
const suite = privilegedSuite('wg set against the UAPI socket', haveWg ? undefined : 'wg is not installed');

describe('UAPI errno as wg reads it', suite, () => {
  it('a set answered with EINVAL makes `wg set` print "Invalid argument"', async () => {
    const name = `tke${process.pid % 10000}`;
    const server = await UapiServer.listen({ name, handler: async () => ({ lines: '', errno: EINVAL }) });
    try {
      const peer = formatKey(publicKeyFrom(generatePrivateKey()));
      const result = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
        // Asynchronous: the server answers on this thread.
        const child = spawn('wg', ['set', name, 'peer', peer, 'allowed-ips', '10.9.0.9/32']);
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
        });
        child.on('close', (status: number | null) => resolve({ status, stderr }));
      });
      assert.notEqual(result.status, 0);
      assert.match(result.stderr, /Invalid argument/);
    } finally {
      await server.close();
    }
  });
});
