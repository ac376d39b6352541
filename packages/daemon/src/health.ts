// GET /healthz, served beside /metrics: is this daemon doing its job? 200 with a JSON body while
// the device is up and the event loop keeps time; 503 (same JSON, saying why) while it starts,
// once the device ended by itself, while it stops, or when the event loop was blocked for longer
// than the bound within the last window: a loop that holds the JS thread starves the timers,
// keepalives and handshakes, so the tunnel is not healthy even if it answers afterwards.
// Peers are labelled as in the metrics (first AllowedIPs prefix, else their position), never by key.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Device } from '@tunkit/wireguard';

/** Event-loop delay above which the daemon is unhealthy (a second without timers is a wedged loop). */
export const HEALTH_MAX_LAG_MS = 1000;
/** The delay is the largest seen in the current window and the one before it: 5 to 10 s back. */
const LAG_WINDOW_MS = 5000;

export interface HealthReport {
  status: 'ok' | 'unavailable';
  interface: string;
  /** starting, up, ended (the TUN ended by itself), stopping. */
  device: 'starting' | 'up' | 'ended' | 'stopping';
  /** Why it is unavailable, when it is. */
  reason?: string;
  eventLoop: { maxLagMs: number; boundMs: number };
  /** Seconds since each peer's last completed handshake (null: never). */
  peers: { peer: string; lastHandshakeAgeSeconds: number | null }[];
}

type Phase =
  | { name: 'starting' }
  | { name: 'up'; device: Pick<Device, 'engine' | 'endedBy'> }
  | { name: 'stopping'; why: string };

export interface HealthOptions {
  maxLagMs?: number;
  /** The largest recent event-loop delay in ms (default: measured, see watchEventLoop). */
  lagMs?: () => number;
  /** Wall clock in ms (default Date.now). */
  now?: () => number;
}

export class Health {
  private phase: Phase = { name: 'starting' };
  private readonly maxLagMs: number;
  private readonly now: () => number;
  private lagMs: () => number;

  constructor(
    private readonly name: string,
    options: HealthOptions = {},
  ) {
    this.maxLagMs = options.maxLagMs ?? HEALTH_MAX_LAG_MS;
    this.now = options.now ?? Date.now;
    this.lagMs = options.lagMs ?? (() => 0);
  }

  /** Whether the daemon is up (started and not stopping; its device may still have ended). */
  get isUp(): boolean {
    return this.phase.name === 'up';
  }

  /** The device is up (its `endedBy` is read at each check). */
  up(device: Pick<Device, 'engine' | 'endedBy'>): void {
    this.phase = { name: 'up', device };
  }

  /** The daemon stops (`why`: the signal, or what ended it). */
  stopping(why: string): void {
    this.phase = { name: 'stopping', why };
  }

  /**
   * Measures the event loop's delay from now on (unless `lagMs` was given); returns the function
   * that stops measuring.
   */
  watchEventLoop(): () => void {
    const histogram = monitorEventLoopDelay({ resolution: 20 });
    histogram.enable();
    let previousMaxMs = 0;
    const rotate = setInterval(() => {
      previousMaxMs = histogram.max / 1e6;
      histogram.reset();
    }, LAG_WINDOW_MS);
    rotate.unref();
    this.lagMs = () => Math.max(previousMaxMs, histogram.max / 1e6);
    return () => {
      clearInterval(rotate);
      histogram.disable();
    };
  }

  /** The answer to GET /healthz. */
  check(): { status: 200 | 503; report: HealthReport } {
    const maxLagMs = Math.round(this.lagMs() * 10) / 10;
    const report: HealthReport = {
      status: 'unavailable',
      interface: this.name,
      device: 'starting',
      eventLoop: { maxLagMs, boundMs: this.maxLagMs },
      peers: [],
    };
    const phase = this.phase;
    if (phase.name === 'starting') {
      report.reason = 'starting';
    } else if (phase.name === 'stopping') {
      report.device = 'stopping';
      report.reason = phase.why;
    } else {
      const ended = phase.device.endedBy;
      report.device = ended ? 'ended' : 'up';
      report.peers = this.peers(phase.device);
      if (ended) report.reason = `the TUN device ended by itself: ${ended.message}`;
      else if (maxLagMs > this.maxLagMs)
        report.reason = `the event loop was blocked for ${Math.round(maxLagMs)} ms (bound ${this.maxLagMs} ms)`;
      else report.status = 'ok';
    }
    return { status: report.status === 'ok' ? 200 : 503, report };
  }

  private peers(device: Pick<Device, 'engine'>): HealthReport['peers'] {
    const now = this.now();
    return [...device.engine.peers()].map((peer, i) => ({
      peer: device.engine.allowedIps.prefixesOf(peer)[0] ?? `#${i}`,
      lastHandshakeAgeSeconds:
        peer.lastHandshakeWallMs === 0 ? null : Math.max(0, Math.round((now - peer.lastHandshakeWallMs) / 100) / 10),
    }));
  }
}
