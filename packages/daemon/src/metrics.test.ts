// The Prometheus text: per-queue TUN counters (rx_dropped included), consistent names, no keys.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryTun, type TunStats } from '@tunkit/tun-core';
import { Device, formatKey, generatePrivateKey, MemoryNetwork, publicKeyFrom } from '@tunkit/wireguard';
import { renderMetrics } from './metrics.js';

const queue = (n: number) => ({
  rxPackets: 100 * n,
  rxBytes: 1000 * n,
  txPackets: 200 * n,
  txBytes: 2000 * n,
  rxDropped: 7 * n,
  txDropped: 0,
  rxStalls: n,
});

describe('renderMetrics', () => {
  it('exports the TUN’s rx drops per queue, under names like the others, and never a key', async () => {
    const [tun] = MemoryTun.pair({ mtu: 1420 });
    const privateKey = generatePrivateKey();
    const peerKey = publicKeyFrom(generatePrivateKey());
    const device = new Device({ tun, bind: new MemoryNetwork().bind('10.0.0.1', 51820), privateKey });
    device.addPeer({ publicKey: peerKey }, ['10.9.0.2/32']);
    const stats: TunStats = { ...queue(0), rxDropped: 21, txRefused: 0, queues: [queue(1), queue(2)] };
    try {
      const text = await renderMetrics(device, { stats: () => stats }, { p50: 0, p99: 0, max: 0 });
      assert.match(text, /^# TYPE tunkit_tun_rx_dropped_total counter$/m);
      assert.match(text, /^tunkit_tun_rx_dropped_total\{queue="0"\} 7$/m);
      assert.match(text, /^tunkit_tun_rx_dropped_total\{queue="1"\} 14$/m);
      // The defences' counters: bad endpoints and sources, the handshake queue, under load, and
      // every drop reason (rate limiter and queue included).
      assert.match(text, /^tunkit_udp_rx_bad_source_total 0$/m);
      assert.match(text, /^tunkit_udp_tx_bad_endpoint_total 0$/m);
      assert.match(text, /^tunkit_wireguard_handshake_queue 0$/m);
      assert.match(text, /^tunkit_wireguard_under_load 0$/m);
      for (const reason of ['handshake-queue-full', 'ratelimited', 'ratelimit-table-full', 'needs-cookie'])
        assert.match(text, new RegExp(`^tunkit_wireguard_drops_total\\{reason="${reason}"\\} 0$`, 'm'));
      const names = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string] as const);
      assert.equal(new Set(names.map(([n]) => n)).size, names.length, 'each metric once');
      for (const [name, type] of names) {
        assert.match(name, /^tunkit_(tun|udp|wireguard|peer|event_loop)_[a-z0-9_]+$/);
        assert.equal(name.endsWith('_total'), type === 'counter', `${name} (${type})`);
      }
      for (const key of [formatKey(privateKey), formatKey(peerKey), formatKey(publicKeyFrom(privateKey))])
        assert.ok(!text.includes(key), 'no key in metrics');
    } finally {
      await device.close();
    }
  });
});
