// Prometheus metrics over HTTP (text format 0.0.4): TUN per-queue counters, UDP counters,
// WireGuard drops by reason, handshakes, per-peer traffic and last handshake, event-loop lag.
// Peers are labelled by their first AllowedIPs prefix (or their position), never by key. The
// per-peer families are rendered PEER_TURN peers (or PEER_TURN_MS) at a time, giving way to the
// event loop in between: a scrape of 5,000 peers is about 20 ms of JS work, which would otherwise
// hold the Device's loops for as long.

import { createServer, type Server } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { TunStats } from '@tunkit/tun-core';
import { type Device, DROP_REASONS, type Peer, TurnBudget } from '@tunkit/wireguard';
import { StartupError } from './startup-error.js';

type Sample = [labels: Record<string, string | number>, value: number];

/** Peers rendered per turn of the event loop, or milliseconds, whichever comes first. */
const PEER_TURN = 500;
const PEER_TURN_MS = 2;

/** A label value as the text format wants it (quotes, backslashes and newlines cannot appear). */
function labelValue(value: string | number): string {
  return String(value).replace(/["\\\n]/g, '_');
}

class Exposition {
  private readonly lines: string[] = [];
  add(name: string, type: 'counter' | 'gauge', help: string, samples: Sample[]): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const entries = Object.entries(labels);
      const text = entries.length ? `{${entries.map(([k, v]) => `${k}="${labelValue(v)}"`).join(',')}}` : '';
      this.lines.push(`${name}${text} ${Number.isFinite(value) ? value : 0}`);
    }
  }
  /** One family with a `peer` label per peer, giving way to the event loop as `budget` says. */
  async addPerPeer(
    name: string,
    type: 'counter' | 'gauge',
    help: string,
    peers: readonly { peer: Peer; label: string }[],
    value: (peer: Peer) => number,
    budget: TurnBudget,
  ): Promise<void> {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const { peer, label } of peers) {
      const v = value(peer);
      this.lines.push(`${name}{peer="${label}"} ${Number.isFinite(v) ? v : 0}`);
      await budget.spend(1);
    }
  }
  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

/** Renders the metrics of a running device, giving way to the event loop between groups of peers. */
export async function renderMetrics(
  device: Device,
  tun: { stats(): TunStats },
  lagSeconds: { p50: number; p99: number; max: number },
): Promise<string> {
  const m = new Exposition();
  device.syncCounters(); // per-peer bytes and drops the native data plane counted since the last timer run
  const tunStats = tun.stats();
  const queues = tunStats.queues.map((q, i) => ({ q, i }));
  const perQueue = (key: keyof TunStats['queues'][number]): Sample[] =>
    queues.map(({ q, i }) => [{ queue: i }, q[key]]);
  m.add(
    'tunkit_tun_rx_packets_total',
    'counter',
    'Packets read from the TUN device, per queue.',
    perQueue('rxPackets'),
  );
  m.add('tunkit_tun_rx_bytes_total', 'counter', 'Bytes read from the TUN device, per queue.', perQueue('rxBytes'));
  m.add(
    'tunkit_tun_tx_packets_total',
    'counter',
    'Packets written to the TUN device, per queue.',
    perQueue('txPackets'),
  );
  m.add('tunkit_tun_tx_bytes_total', 'counter', 'Bytes written to the TUN device, per queue.', perQueue('txBytes'));
  m.add(
    'tunkit_tun_rx_stalls_total',
    'counter',
    'Times a queue stopped reading because the inbound channel was full.',
    perQueue('rxStalls'),
  );
  m.add(
    'tunkit_tun_rx_dropped_total',
    'counter',
    'Packets read from the TUN device and dropped before delivery (malformed or oversize offload frames, discarded at close), per queue.',
    perQueue('rxDropped'),
  );
  const frames = tunStats as TunStats & { rxFrames?: number; txFrames?: number };
  if (frames.rxFrames !== undefined && frames.txFrames !== undefined) {
    m.add('tunkit_tun_rx_frames_total', 'counter', 'Reads from the TUN device (fewer than packets with offload).', [
      [{}, frames.rxFrames],
    ]);
    m.add('tunkit_tun_tx_frames_total', 'counter', 'Writes to the TUN device (fewer than packets with offload).', [
      [{}, frames.txFrames],
    ]);
  }
  m.add('tunkit_tun_tx_dropped_total', 'counter', 'Packets accepted for the TUN that could not be written.', [
    [{}, tunStats.txDropped],
  ]);
  m.add('tunkit_tun_tx_refused_total', 'counter', 'Sends refused because the outbound queue was full (retried).', [
    [{}, tunStats.txRefused],
  ]);
  const bind = device.bindStats();
  m.add('tunkit_udp_rx_datagrams_total', 'counter', 'UDP datagrams received.', [[{}, bind.rxDatagrams]]);
  m.add('tunkit_udp_rx_bytes_total', 'counter', 'UDP bytes received.', [[{}, bind.rxBytes]]);
  m.add('tunkit_udp_tx_datagrams_total', 'counter', 'UDP datagrams sent.', [[{}, bind.txDatagrams]]);
  m.add('tunkit_udp_tx_bytes_total', 'counter', 'UDP bytes sent.', [[{}, bind.txBytes]]);
  m.add('tunkit_udp_rx_dropped_total', 'counter', 'UDP datagrams dropped by the full receive queue.', [
    [{}, bind.rxDropped],
  ]);
  m.add('tunkit_udp_tx_errors_total', 'counter', 'UDP sends the OS refused.', [[{}, bind.txErrors]]);
  m.add(
    'tunkit_udp_rx_bad_source_total',
    'counter',
    'UDP datagrams dropped because their sender cannot be answered (source port 0).',
    [[{}, bind.rxBadSource]],
  );
  m.add(
    'tunkit_udp_tx_bad_endpoint_total',
    'counter',
    'UDP datagrams not sent because their endpoint cannot be sent to (port 0, another address family, not an address).',
    [[{}, bind.txBadEndpoint]],
  );
  const engine = device.engine;
  m.add(
    'tunkit_wireguard_drops_total',
    'counter',
    'Datagrams and packets dropped, by reason.',
    DROP_REASONS.map((reason) => [{ reason }, engine.drops[reason]]),
  );
  m.add('tunkit_wireguard_handshakes_total', 'counter', 'Handshakes, by kind.', [
    [{ kind: 'initiated' }, engine.counters.handshakesInitiated],
    [{ kind: 'answered' }, engine.counters.handshakesAnswered],
    [{ kind: 'completed' }, engine.counters.handshakesCompleted],
  ]);
  m.add('tunkit_wireguard_cookies_sent_total', 'counter', 'Cookie replies sent while under load.', [
    [{}, engine.counters.cookiesSent],
  ]);
  m.add(
    'tunkit_wireguard_handshake_queue',
    'gauge',
    'Initiations and responses waiting to be processed (at most 1,024; more are dropped as handshake-queue-full).',
    [[{}, engine.handshakesQueued]],
  );
  m.add(
    'tunkit_wireguard_under_load',
    'gauge',
    '1 while handshakes need a cookie and are rate-limited per source (the handshake queue is, or was a second ago, an eighth full).',
    [[{}, engine.underLoad ? 1 : 0]],
  );
  m.add('tunkit_wireguard_keepalives_sent_total', 'counter', 'Keepalives sent.', [
    [{}, engine.counters.keepalivesSent],
  ]);
  const budget = new TurnBudget(PEER_TURN, PEER_TURN_MS);
  const peers: { peer: Peer; label: string }[] = [];
  for (const peer of engine.peers()) {
    peers.push({ peer, label: labelValue(engine.allowedIps.prefixesOf(peer)[0] ?? `#${peers.length}`) });
    await budget.spend(1);
  }
  await m.addPerPeer(
    'tunkit_peer_last_handshake_seconds',
    'gauge',
    'Unix time of the last completed handshake with the peer (0: never).',
    peers,
    (peer) => peer.lastHandshakeWallMs / 1000,
    budget,
  );
  await m.addPerPeer(
    'tunkit_peer_rx_bytes_total',
    'counter',
    'Bytes received from the peer.',
    peers,
    (peer) => peer.rxBytes,
    budget,
  );
  await m.addPerPeer(
    'tunkit_peer_tx_bytes_total',
    'counter',
    'Bytes sent to the peer.',
    peers,
    (peer) => peer.txBytes,
    budget,
  );
  m.add('tunkit_event_loop_lag_seconds', 'gauge', 'Event-loop delay over the last interval.', [
    [{ quantile: '0.5' }, lagSeconds.p50],
    [{ quantile: '0.99' }, lagSeconds.p99],
    [{ quantile: '1' }, lagSeconds.max],
  ]);
  return m.toString();
}

/** An answer of one of the extra routes (see MetricsServer.listen). */
export interface HttpAnswer {
  status: number;
  contentType: string;
  body: string;
}

/**
 * Serves GET /metrics, and GET on each of `routes` (the daemon's /healthz); the event-loop
 * histogram resets at each scrape.
 */
export class MetricsServer {
  private constructor(
    private readonly server: Server,
    private readonly lag: ReturnType<typeof monitorEventLoopDelay>,
  ) {}

  static async listen(
    host: string,
    port: number,
    render: (lag: { p50: number; p99: number; max: number }) => string | Promise<string>,
    routes: Record<string, () => HttpAnswer> = {},
  ): Promise<MetricsServer> {
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const server = createServer((request, response) => {
      const path = (request.url ?? '').split('?')[0] ?? '';
      const route = request.method === 'GET' && Object.hasOwn(routes, path) ? routes[path] : undefined;
      if (route) {
        const answer = route();
        response.writeHead(answer.status, { 'content-type': answer.contentType }).end(answer.body);
        return;
      }
      if (request.method !== 'GET' || path !== '/metrics') {
        const paths = ['/metrics', ...Object.keys(routes)].join(' or ');
        response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: try ${paths}\n`);
        return;
      }
      const seconds = (ns: number) => ns / 1e9;
      const lagSeconds = { p50: seconds(lag.percentile(50)), p99: seconds(lag.percentile(99)), max: seconds(lag.max) };
      lag.reset();
      Promise.resolve()
        .then(() => render(lagSeconds))
        .then(
          (body) => response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body),
          (error: unknown) =>
            response
              .writeHead(500, { 'content-type': 'text/plain' })
              .end(`cannot render the metrics: ${(error as Error).message}\n`),
        );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        lag.disable();
        reject(
          new StartupError(
            error.code === 'EADDRINUSE'
              ? `--metrics-listen ${host}:${port} is in use by another process: pick another port`
              : `cannot serve metrics on ${host}:${port}: ${error.message}`,
          ),
        );
      });
      server.listen(port, host, () => resolve());
    });
    return new MetricsServer(server, lag);
  }

  get address(): string {
    const a = this.server.address();
    return typeof a === 'object' && a ? `${a.address}:${a.port}` : String(a);
  }

  async close(): Promise<void> {
    this.lag.disable();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
