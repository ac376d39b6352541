// The tun-core contract suite against tun-android's fromFd over a real single-queue Linux TUN fd
// (what VpnService.establish() gives an app), in a namespace of its own. The same code runs on Android.
import type { Socket } from 'node:dgram';
import {
  sequencePacket,
  sequencePayload,
  type TunHarness,
  takeCollected,
  tunContractSuite,
} from '@tunkit/tun-core/testing';
import { fromFd } from '../../src/index.js';
import { enterTestNamespace, openKernelTun, payloadSequence, sendUdp, udpSocket } from './kernel-side.js';

const { skip, ns } = enterTestNamespace('tun-android contract');
let subnet = 0;

async function androidHarness(): Promise<TunHarness> {
  if (!ns) throw new Error('no test namespace');
  const n = ++subnet;
  const local = `10.78.${n}.1`; // the kernel side's address on the device
  const remote = `10.78.${n}.2`; // "the network" behind the device
  const fd = openKernelTun(ns, `tka${n}`, [`${local}/24`]);
  const tun = fromFd(fd, { mtu: 1420 });
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
    outbound: (seq, size) => sequencePacket(seq, size, [10, 78, n, 2], [10, 78, n, 1]),
    collect: (count, timeoutMs) => takeCollected(received, count, timeoutMs),
    async dispose() {
      sender.close();
      receiver.close();
    },
  };
}

tunContractSuite('AndroidTun (fromFd over a Linux TUN fd)', androidHarness, { skip });
