#!/usr/bin/env node
// The demo (README: `npm run demo`, as root): a client — gateway — server lab in network
// namespaces, tunkit-gateway and tunkit-headless started in it, the handshake shown, a ping to the
// server through the tunnel, iperf3 for 5 s each way, a short table, and everything removed.
// Installs iproute2, iputils-ping, iperf3 and nftables with apt-get when they are missing.

import { createConnection } from 'node:net';
import { createLab, waitFor } from './lab/topology.mjs';
import { startDaemon, tunnelConfigs, writeConfigs } from './lab/tunnel.mjs';
import { ensureSystemTools } from './system-deps.mjs';

if (process.getuid?.() !== 0) {
  console.error('the demo builds network namespaces and TUN devices: run it as root (sudo npm run demo)');
  process.exit(1);
}
const installed = ensureSystemTools(['ip', 'ping', 'iperf3', 'nft']);
if (installed.length) console.log(`installed ${installed.join(', ')}`);

/** The UAPI get=1 answer of a daemon, as key=value pairs (what `wg show` reads). */
function uapiGet(name) {
  return new Promise((resolve, reject) => {
    const socket = createConnection(`/var/run/wireguard/${name}.sock`);
    let text = '';
    socket.on('data', (d) => {
      text += d;
      if (text.endsWith('\n\n')) {
        socket.end();
        resolve(
          text
            .trim()
            .split('\n')
            .map((line) => line.split('=')),
        );
      }
    });
    socket.on('error', reject);
    socket.write('get=1\n\n');
  });
}

function iperf(lab, reverse) {
  const args = ['-c', lab.addresses.server, '-t', '5', '-J', ...(reverse ? ['-R'] : [])];
  const result = JSON.parse(lab.exec('client', 'iperf3', args));
  const sum = result.end.sum_received;
  return { gbits: sum.bits_per_second / 1e9, retransmits: result.end.sum_sent.retransmits ?? 0 };
}

const lab = createLab({ id: `tkdemo${process.pid % 1000}` });
const keys = tunnelConfigs();
// lab.destroy() (in finally, and on Ctrl-C / SIGTERM / exit) removes the configs, the daemons'
// journals and UAPI sockets too.
const files = writeConfigs({ tkdemogw: keys.gatewayText, tkdemo: keys.clientText }, lab);
const rows = [];
let exitCode = 0;
try {
  console.log(
    `lab: namespaces ${Object.values(lab.ns).join(', ')}; client 10.88.1.2 — gateway 10.88.1.1 / 10.88.2.1 — server 10.88.2.2`,
  );
  const gateway = startDaemon(lab, 'gateway', 'gateway', files.paths.tkdemogw, ['--forward', '--masquerade', 'g1']);
  await gateway.waitForLog('gateway up');
  const client = startDaemon(lab, 'client', 'headless', files.paths.tkdemo);
  await client.waitForLog('headless up');
  const started = Date.now();
  const handshake = await client.waitForLog('handshake completed');
  console.log(
    `handshake: tunkit-headless ↔ tunkit-gateway at ${handshake.endpoint}, ${Date.now() - started} ms after start`,
  );
  const peer = Object.fromEntries((await uapiGet('tkdemogw')).filter(([k]) => !k.endsWith('_key')));
  console.log(
    `gateway's view (UAPI, what \`wg show\` prints): peer endpoint ${peer.endpoint}, last handshake ${peer.last_handshake_time_sec}`,
  );
  rows.push(['handshake', `${Date.now() - started} ms`]);

  lab.spawn('server', 'iperf3', ['-s']);
  await waitFor('iperf3 -s', () => lab.exec('server', 'ss', ['-ltn']).includes(':5201'));
  const ping = lab.exec('client', 'ping', ['-c', '5', '-i', '0.2', '-W', '2', lab.addresses.server]);
  const loss = /(\d+)% packet loss/.exec(ping)?.[1];
  const rtt = /= [\d.]+\/([\d.]+)\//.exec(ping)?.[1];
  console.log(`ping ${lab.addresses.server} (server, through the tunnel): ${loss}% loss, ${rtt} ms average`);
  rows.push(['ping client → server', `${loss}% loss, ${rtt} ms avg`]);
  for (const reverse of [false, true]) {
    const r = iperf(lab, reverse);
    const label = reverse ? 'iperf3 server → client (-R)' : 'iperf3 client → server';
    console.log(`${label}: ${r.gbits.toFixed(2)} Gbit/s, ${r.retransmits} retransmits`);
    rows.push([label, `${r.gbits.toFixed(2)} Gbit/s (${r.retransmits} retransmits)`]);
  }
  const codes = await Promise.all([client.stop('SIGTERM'), gateway.stop('SIGTERM')]);
  rows.push(['clean stop (SIGTERM)', codes.every((c) => c === 0) ? 'both exited 0' : `exit codes ${codes.join(', ')}`]);
  console.log(`\n| step | result |\n|---|---|\n${rows.map(([a, b]) => `| ${a} | ${b} |`).join('\n')}`);
} catch (error) {
  console.error(`demo failed: ${error.message}`);
  exitCode = 1;
} finally {
  lab.destroy();
  files.remove();
}
console.log('lab removed: namespaces, devices and configs are gone');
process.exit(exitCode);
