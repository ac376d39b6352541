// The Device's fwmark: applied to its Bind (and to each Bind it moves to), reported by UAPI get,
// settable by UAPI set (EPERM when the Bind refuses, as the kernel does without CAP_NET_ADMIN);
// a Bind that cannot mark keeps it recorded and the Device says so once, through its log.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryTun, TunOsError } from '@tunkit/tun-core';
import type { Bind } from '../bind/bind.js';
import { MemoryNetwork } from '../bind/memory-bind.js';
import { EPERM } from '../config/uapi.js';
import { generatePrivateKey } from '../protocol/keys.js';
import { Device } from './device.js';

/** A MemoryBind that can be marked, recording each mark set (or refusing them all). */
function markable(network: MemoryNetwork, port: number, refuse = false): Bind & { marks: number[] } {
  const bind = network.bind('10.0.0.1', port) as unknown as Bind & { marks: number[] };
  bind.marks = [];
  bind.setFwmark = (mark: number) => {
    if (refuse) throw new TunOsError('EPERM', 'setsockopt', `EPERM setting SO_MARK ${mark}: Operation not permitted`);
    bind.marks.push(mark);
  };
  return bind;
}

function device(bind: Bind, options: Partial<ConstructorParameters<typeof Device>[0]> = {}) {
  const [tun] = MemoryTun.pair({ mtu: 1420 });
  return new Device({ tun, bind, privateKey: generatePrivateKey(), ...options });
}

const fwmarkLine = (d: Device) => /^fwmark=(\d+)$/m.exec(d.uapiGet())?.[1];

describe('Device fwmark', () => {
  it('applies the mark to its Bind, reports it, and changes or clears it over UAPI', async () => {
    const network = new MemoryNetwork();
    const bind = markable(network, 51820);
    const logged: string[] = [];
    const d = device(bind, { fwmark: 0x2a, log: (m) => logged.push(m) });
    try {
      assert.deepEqual(bind.marks, [0x2a]);
      assert.equal(fwmarkLine(d), '42');
      assert.equal((await d.uapiHandler('set', 'fwmark=51\n')).errno, 0);
      assert.deepEqual(bind.marks, [0x2a, 51]);
      assert.equal(fwmarkLine(d), '51');
      assert.equal((await d.uapiHandler('set', 'fwmark=0\n')).errno, 0);
      assert.deepEqual(bind.marks, [0x2a, 51, 0]);
      assert.equal(fwmarkLine(d), undefined, 'wg show prints no fwmark once it is off');
      assert.deepEqual(logged, []);
    } finally {
      await d.close();
    }
  });

  it('marks the Bind it moves to (wg set … listen-port)', async () => {
    const network = new MemoryNetwork();
    const next = markable(network, 51821);
    const d = device(markable(network, 51820), {
      fwmark: 7,
      rebind: async (_port, adopt) => adopt(next),
    });
    try {
      d.start();
      assert.equal((await d.uapiHandler('set', 'listen_port=51821\n')).errno, 0);
      assert.deepEqual(next.marks, [7]);
      assert.equal(d.listenPort, 51821);
    } finally {
      await d.close();
    }
  });

  it('throws when the Bind refuses the mark, and answers UAPI with EPERM', async () => {
    const network = new MemoryNetwork();
    assert.throws(() => device(markable(network, 51820, true), { fwmark: 1 }), /EPERM/);
    const d = device(markable(network, 51821, true));
    try {
      assert.equal((await d.uapiHandler('set', 'fwmark=1\n')).errno, EPERM);
      assert.equal(fwmarkLine(d), undefined, 'a refused mark is not reported as set');
    } finally {
      await d.close();
    }
  });

  it('records a mark its Bind cannot apply, and says so once per value', async () => {
    const logged: string[] = [];
    const d = device(new MemoryNetwork().bind('10.0.0.1', 51820), { fwmark: 5, log: (m) => logged.push(m) });
    try {
      assert.equal(fwmarkLine(d), '5');
      assert.equal((await d.uapiHandler('set', 'fwmark=5\n')).errno, 0);
      assert.equal(logged.length, 1);
      assert.match(
        logged[0] as string,
        /fwmark 5 is recorded .* but not applied: this UDP bind cannot set SO_MARK on its socket \(node:dgram cannot\)/,
      );
      assert.equal((await d.uapiHandler('set', 'fwmark=6\n')).errno, 0);
      assert.equal(logged.length, 2);
    } finally {
      await d.close();
    }
  });
});
