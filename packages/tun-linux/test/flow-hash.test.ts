// The native flow hash (native/flow_hash.cc, which picks a packet's queue) is tun-core's TS
// flowHash, symmetric in both directions: checked through the test addon.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flowHash } from '@tunkit/tun-core';
import { sequencePacket } from '@tunkit/tun-core/testing';
import { codecAddon } from './codec-addon.js';

describe('native flowHash', { skip: process.platform === 'linux' ? false : 'Linux only' }, () => {
  it('is tun-core flowHash, symmetric in both directions', () => {
    const nativeFlowHash = (packet: Uint8Array) => codecAddon().flowHash(packet);
    for (let port = 0; port < 200; port++) {
      const a = sequencePacket(port, 64, [10, 1, 2, 3], [10, 9, 8, 7]);
      a[20] = port >> 8;
      a[21] = port & 0xff;
      assert.equal(nativeFlowHash(a), flowHash(a));
    }
    const there = sequencePacket(1, 64, [10, 0, 0, 1], [10, 0, 0, 2]);
    const back = sequencePacket(1, 64, [10, 0, 0, 2], [10, 0, 0, 1]);
    back[20] = there[22] as number;
    back[21] = there[23] as number;
    back[22] = there[20] as number;
    back[23] = there[21] as number;
    assert.equal(nativeFlowHash(there), nativeFlowHash(back));
    assert.equal(nativeFlowHash(new Uint8Array(3)), 0);
  });
});
