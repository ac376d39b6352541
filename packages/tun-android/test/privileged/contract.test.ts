// The tun-core contract suite against tun-android's fromFd over a real single-queue Linux TUN fd
// (what VpnService.establish() gives an app), in a namespace of its own. The same code runs on Android.
import { kernelUdpHarness, type TunHarness, tunContractSuite } from '@tunkit/tun-core/testing';
import { fromFd } from '../../src/index.js';
import { enterTestNamespace, openKernelTun } from './kernel-side.js';

const { skip, ns } = enterTestNamespace('tun-android contract');
let subnet = 0;

async function androidHarness(): Promise<TunHarness> {
  if (!ns) throw new Error('no test namespace');
  const n = ++subnet;
  // 10.78.n.1: the kernel side's address on the device; 10.78.n.2: "the network" behind the device.
  const fd = openKernelTun(ns, `tka${n}`, [`10.78.${n}.1/24`]);
  return kernelUdpHarness(fromFd(fd, { mtu: 1420 }), [10, 78, n, 1], [10, 78, n, 2]);
}

tunContractSuite('AndroidTun (fromFd over a Linux TUN fd)', androidHarness, { skip });
