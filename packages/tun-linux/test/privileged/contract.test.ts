// The tun-core contract suite against a real multi-queue TUN device, in a namespace of its own.
import { kernelUdpHarness, type TunHarness, tunContractSuite } from '@tunkit/tun-core/testing';
import { openTun } from '../../src/index.js';
import { enterTestNamespace } from './kernel-side.js';

const { skip } = enterTestNamespace('tun-linux contract');
let subnet = 0;

async function linuxHarness(queues: number): Promise<TunHarness> {
  const n = ++subnet;
  // 10.77.n.1: the kernel side's address on the device; 10.77.n.2: "the network" behind the device.
  // Small outbound queues: the contract's producer then really meets refusals and sendReady (a
  // kernel cannot be paused, so the suite's strong backpressure test does not apply here; see
  // send-backpressure.test.ts for refusal on a real device).
  const tun = await openTun({ name: `tkc${n}`, queues, outboundSlots: 16, addresses: [`10.77.${n}.1/24`] });
  return kernelUdpHarness(tun, [10, 77, n, 1], [10, 77, n, 2]);
}

tunContractSuite('LinuxTun, 1 queue', () => linuxHarness(1), { skip });
tunContractSuite('LinuxTun, 4 queues', () => linuxHarness(4), { skip });
