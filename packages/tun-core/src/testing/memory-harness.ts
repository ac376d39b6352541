// The contract-suite harness for MemoryTun: the device under test and its peer as the other side.

import { TunOsError } from '../errors.js';
import { MemoryTun, type MemoryTunPairOptions } from '../memory-tun.js';
import { PacketBatch } from '../packet-batch.js';
import { type TunHarness, takeCollected } from './harness.js';
import { readSequence, sequencePacket } from './packets.js';

export function memoryTunHarness(options: MemoryTunPairOptions = {}): TunHarness {
  const [tun, peer] = MemoryTun.pair({ capacity: 64, ...options });
  const batch = new PacketBatch();
  const received: number[] = [];
  let paused = false;
  let waiting: (() => void) | undefined;

  // The other side's reader: drains `peer` unless paused.
  const reader = (async () => {
    for (;;) {
      if (paused) await new Promise<void>((resolve) => (waiting = resolve));
      const n = await peer.recvMany(batch);
      if (n === 0) return;
      for (const p of batch) {
        const seq = readSequence(p);
        if (seq !== undefined) received.push(seq);
      }
    }
  })();

  return {
    tun,
    async inject(seq, size) {
      while (!peer.send(sequencePacket(seq, size, [10, 0, 0, 2], [10, 0, 0, 1]))) await peer.sendReady();
    },
    outbound: (seq, size) => sequencePacket(seq, size),
    collect: (count, timeoutMs) => takeCollected(received, count, timeoutMs),
    pauseOtherSide() {
      paused = true;
    },
    resumeOtherSide() {
      paused = false;
      waiting?.();
      waiting = undefined;
    },
    endByItself() {
      tun.endByItself(new TunOsError('ENODEV', 'memory', `the memory device ${tun.name} was removed`));
      return 'ENODEV';
    },
    async dispose() {
      await peer.close();
      paused = false;
      waiting?.();
      await reader;
    },
  };
}
