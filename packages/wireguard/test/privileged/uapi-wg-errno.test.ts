// The stock `wg` tool against tunkit's UAPI socket: a refused `wg set` must print the errno the
// device meant ("Invalid argument"), which depends on the sign convention of the errno line; and
// `wg set … endpoint x:0`, which wg passes on as it is, is refused by a real Device with EINVAL.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { MemoryTun } from '@tunkit/tun-core';
import { privilegedSuite } from '@tunkit/tun-core/testing';
import { MemoryNetwork } from '../../src/bind/memory-bind.js';
import { EINVAL } from '../../src/config/uapi.js';
import { Device } from '../../src/device/device.js';
import { formatKey, generatePrivateKey, publicKeyFrom } from '../../src/protocol/keys.js';
import { UapiServer } from '../../src/uapi/uapi-server.js';

const haveWg = spawnSync('sh', ['-c', 'command -v wg']).status === 0;
const suite = privilegedSuite('wg set against the UAPI socket', haveWg ? undefined : 'wg is not installed');

/** Runs `wg` asynchronously (the UAPI server answers on this thread): exit status and stderr. */
function wg(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('wg', args);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('close', (status: number | null) => resolve({ status, stderr }));
  });
}

describe('UAPI errno as wg reads it', suite, () => {
  it('a set answered with EINVAL makes `wg set` print "Invalid argument"', async () => {
    const name = `tke${process.pid % 10000}`;
    const server = await UapiServer.listen({ name, handler: async () => ({ lines: '', errno: EINVAL }) });
    try {
      const peer = formatKey(publicKeyFrom(generatePrivateKey()));
      const result = await wg(['set', name, 'peer', peer, 'allowed-ips', '10.9.0.9/32']);
      assert.notEqual(result.status, 0);
      assert.match(result.stderr, /Invalid argument/);
    } finally {
      await server.close();
    }
  });

  it('`wg set … endpoint x:0` is refused with "Invalid argument"; the peer keeps its endpoint', async () => {
    const [tun] = MemoryTun.pair({ mtu: 1420 });
    const device = new Device({
      tun,
      bind: new MemoryNetwork().bind('10.0.0.1', 51820),
      privateKey: generatePrivateKey(),
    });
    const name = `tkz${process.pid % 10000}`;
    const server = await UapiServer.listen({ name, handler: device.uapiHandler });
    try {
      const peer = formatKey(publicKeyFrom(generatePrivateKey()));
      assert.equal((await wg(['set', name, 'peer', peer, 'endpoint', '192.0.2.1:51820'])).status, 0);
      for (const endpoint of ['192.0.2.1:0', '[2001:db8::1]:0']) {
        const result = await wg(['set', name, 'peer', peer, 'endpoint', endpoint]);
        assert.notEqual(result.status, 0, endpoint);
        assert.match(result.stderr, /Unable to modify interface: Invalid argument/, endpoint);
      }
      assert.match(device.uapiGet(), /endpoint=192\.0\.2\.1:51820\n/);
    } finally {
      await server.close();
      await device.close();
    }
  });
});
