// A minimal tunkit WireGuard peer for the iperf3 lab, until the apps exist: a LinuxTun, a UdpBind
// and a Device with one peer, configured from arguments. Run inside a namespace (ip netns exec).
// Prints "ready" once up; exits on SIGTERM.

import { parseArgs } from 'node:util';
import { openTun } from '@tunkit/tun-linux';
import { Device, parseKey, UdpBind } from '@tunkit/wireguard';

const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    queues: { type: 'string', default: '2' },
    'private-key': { type: 'string' },
    'listen-port': { type: 'string', default: '0' },
    address: { type: 'string' },
    peer: { type: 'string' },
    endpoint: { type: 'string' },
    allowed: { type: 'string' },
    route: { type: 'string', multiple: true, default: [] },
  },
});

const tun = await openTun({
  name: values.name as string,
  queues: Number(values.queues),
  addresses: [values.address as string],
  routes: values.route as string[],
});
const bind = await UdpBind.open({ port: Number(values['listen-port']), ipv6: false, address: '0.0.0.0' });
const device = new Device({ tun, bind, privateKey: parseKey(values['private-key'] as string, 'private key') });
const [host, port] = (values.endpoint ?? '').split(':');
device.addPeer(
  {
    publicKey: parseKey(values.peer as string, 'peer key'),
    ...(host ? { endpoint: { address: host, port: Number(port) } } : {}),
  },
  (values.allowed as string).split(','),
);
device.start();
console.log('ready');
if (process.env.TUNKIT_PEER_STATS) {
  setInterval(() => {
    const drops = Object.fromEntries(Object.entries(device.engine.drops).filter(([, n]) => n > 0));
    console.error(
      values.name,
      JSON.stringify({ drops, counters: device.engine.counters, tun: tun.stats().txPackets, bind: bind.stats() }),
    );
  }, 1000).unref();
}
process.on('SIGTERM', () => {
  void device.close().then(() => process.exit(0));
});
