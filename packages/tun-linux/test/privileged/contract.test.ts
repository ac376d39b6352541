// The tun-core contract suite against a real multi-queue TUN device, in a namespace of its own.
import type { Socket } from 'node:dgram';
import {
  sequencePacket,
  sequencePayload,
  type TunHarness,
  takeCollected,
  tunContractSuite,
} from '@tunkit/tun-core/testing';
import { openTun } from '../../src/index.js';
import { enterTestNamespace, payloadSequence, sendUdp, udpSocket } from './kernel-side.js';

const { skip } = enterTestNamespace('tun-linux contract');
let subnet = 0;

async function linuxHarness(queues: number): Promise<TunHarness> {
  const n = ++subnet;
  const local = `10.77.${n}.1`; // the kernel side's address on the device
  const remote = `10.77.${n}.2`; // "the network" behind the device
  // Small outbound queues: the contract's producer then really meets refusals and sendReady (a
  // kernel cannot be paused, so the suite's strong backpressure test does not apply here; see
  // send-backpressure.test.ts for refusal on a real device).
  const tun = await openTun({ name: `tkc${n}`, queues, outboundSlots: 16, addresses: [`${local}/24`] });
  const sender: Socket = await udpSocket(local, 5000);
  const receiver: Socket = await udpSocket(local, 5001);
  const received: number[] = [];
  receiver.on('message', (message) => {
    const seq = payloadSequence(message);
    if (seq !== undefined) received.push(seq);
  });
  return {
    tun,
    inject: (seq, size) => sendUdp(sender, sequencePayload(seq, Math.max(8, size - 28)), 5001, remote),
    outbound: (seq, size) => sequencePacket(seq, size, [10, 77, n, 2], [10, 77, n, 1]),
    collect: (count, timeoutMs) => takeCollected(received, count, timeoutMs),
    async dispose() {
      sender.close();
      receiver.close();
    },
  };
}

tunContractSuite('LinuxTun, 1 queue', () => linuxHarness(1), { skip });
tunContractSuite('LinuxTun, 4 queues', () => linuxHarness(4), { skip });
