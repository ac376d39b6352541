// A fast version of bench/attack's scenarios 1 and 6 against the real tunkit-gateway in the lab,
// from an attacker namespace joined to the gateway (scripts/lab/attacker.mjs, udp-flood.c):
// 5,000 valid-MAC1 initiations a second from 64 ports of one host, then the same from source port
// 0, each for 3 s while a ping crosses the tunnel. The gateway goes under load and answers with
// cookies instead of Diffie-Hellman work; the port-0 flood is dropped at the socket, counted; the
// tunnel keeps working and /metrics answers meanwhile; SIGTERM during a flood exits 0, clean.
// The bounds are loose (a shared 2-core machine runs the attacker too); bench/attack measures.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { privilegedSuite } from '@tunkit/tun-core/testing';
import { MacSender, parseKey } from '@tunkit/wireguard';
// @ts-expect-error: plain ESM module without types, shared with bench/attack
import * as attackerLab from '../../../../scripts/lab/attacker.mjs';
import {
  createLab,
  type Daemon,
  hostLeftovers,
  type Lab,
  nodeIn,
  startDaemon,
  TUNNEL,
  tunnelConfigs,
  waitFor,
  writeConfigs,
} from './lab.js';

interface Attacker {
  ns: string;
  address: string;
  gateway: string;
  sources: string[];
}
interface FloodReport {
  sent: number;
  errors: number;
  seconds: number;
  rate: number;
}
const { addAttacker, startFlood, writePool } = attackerLab as {
  addAttacker(lab: Lab, options?: { sources?: number }): Attacker;
  startFlood(
    lab: Lab,
    attacker: Attacker,
    options: { port: number; rate: number; seconds: number; pool: string; sourcePort?: number },
  ): { done: Promise<FloodReport> };
  writePool(datagrams: Uint8Array[]): string;
};

const haveCc = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v cc']).length > 0;
  } catch {
    return false;
  }
})();
const { skip } = privilegedSuite('tunkit-gateway under a handshake flood', haveCc ? undefined : 'no C compiler (cc)');
const id = process.pid % 10000;
const names = { gateway: `tkag${id}`, client: `tkac${id}` };
const METRICS = '127.0.0.1:9586';

/** The gateway's /metrics, fetched inside its namespace, as a map of series to values, and how long it took. */
function scrape(lab: Lab): { values: Map<string, number>; ms: number } {
  const started = performance.now();
  const text = nodeIn(
    lab,
    'gateway',
    `const r = await fetch('http://${METRICS}/metrics'); console.log(await r.text());`,
  );
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\S+) (\S+)$/.exec(line);
    if (match && !line.startsWith('#')) values.set(match[1] as string, Number(match[2]));
  }
  return { values, ms: performance.now() - started };
}

const drop = (values: Map<string, number>, reason: string) =>
  values.get(`tunkit_wireguard_drops_total{reason="${reason}"}`) ?? 0;

/** ping through the tunnel: loss in % and average RTT in ms. */
function ping(lab: Lab, count: number): { loss: number; avg: number } {
  let out: string;
  try {
    out = lab.exec('client', 'ping', ['-q', '-c', String(count), '-i', '0.05', '-W', '1', TUNNEL.gateway]);
  } catch (error) {
    out = String((error as Error).message);
  }
  const loss = Number(/([\d.]+)% packet loss/.exec(out)?.[1] ?? 100);
  const avg = Number(/= [\d.]+\/([\d.]+)\//.exec(out)?.[1] ?? Number.NaN);
  return { loss, avg };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('tunkit-gateway under a handshake flood (scenarios 1 and 6, fast)', { skip }, () => {
  let lab: Lab;
  let attacker: Attacker;
  let gateway: Daemon;
  let client: Daemon;
  let pool: string;

  before(async () => {
    lab = createLab();
    attacker = addAttacker(lab);
    const keys = tunnelConfigs({ keepalive: 1 });
    const files = writeConfigs({ [names.gateway]: keys.gatewayText, [names.client]: keys.clientText }, lab);
    gateway = startDaemon(lab, 'gateway', 'gateway', files.paths[names.gateway] as string, [
      '--metrics-listen',
      METRICS,
    ]);
    await gateway.waitForLog('gateway up');
    client = startDaemon(lab, 'client', 'headless', files.paths[names.client] as string);
    await client.waitForLog('headless up');
    await waitFor('a ping through the tunnel', () => ping(lab, 1).loss === 0, 15_000);
    // Initiations anyone who knows the gateway's public key can make: random bodies, valid MAC1.
    const sender = new MacSender(parseKey(keys.gateway.publicKey, 'PublicKey'));
    pool = writePool(
      Array.from({ length: 1024 }, () => {
        const message = randomBytes(148);
        message.set([1, 0, 0, 0]);
        sender.seal(message, 0);
        return message;
      }),
    );
  });

  after(async () => {
    await client?.stop('SIGTERM');
    await gateway?.stop('SIGTERM');
    lab?.destroy();
  });

  it('5,000 valid-MAC1 initiations/s: under load, cookies instead of Diffie-Hellman work; the tunnel and /metrics keep working', async (t) => {
    const before = scrape(lab).values;
    const flood = startFlood(lab, attacker, { port: TUNNEL.port, rate: 5000, seconds: 3, pool });
    await sleep(700);
    const during = ping(lab, 30);
    const metrics = scrape(lab);
    const report = await flood.done;
    const after = scrape(lab).values;
    assert.ok(report.rate > 2500, `the attacker reached ${report.rate}/s`);
    assert.ok(during.loss <= 10, `ping loss ${during.loss}% during the flood`);
    assert.ok(metrics.ms < 2000, `a scrape during the flood took ${Math.round(metrics.ms)} ms`);
    const cookies =
      (after.get('tunkit_wireguard_cookies_sent_total') ?? 0) -
      (before.get('tunkit_wireguard_cookies_sent_total') ?? 0);
    const failed = drop(after, 'handshake-failed') - drop(before, 'handshake-failed');
    const queueFull = drop(after, 'handshake-queue-full') - drop(before, 'handshake-queue-full');
    t.diagnostic(
      `flood ${report.sent} at ${report.rate}/s; ping loss ${during.loss}% avg ${during.avg} ms; scrape ${Math.round(metrics.ms)} ms; cookies ${cookies}, Diffie-Hellman tries ${failed}, queue full ${queueFull}`,
    );
    assert.ok(cookies > report.sent / 4, `${cookies} cookie replies for ${report.sent} initiations`);
    assert.ok(failed < report.sent / 4, `${failed} of ${report.sent} initiations got Diffie-Hellman work`);
    assert.ok(cookies + failed + queueFull > report.sent / 2, 'the flood was counted');
    assert.equal(ping(lab, 5).loss, 0, 'the tunnel after the flood');
  });

  it('the same from source port 0: dropped at the socket and counted, never answered', async (t) => {
    const before = scrape(lab).values;
    const flood = startFlood(lab, attacker, { port: TUNNEL.port, rate: 5000, seconds: 3, pool, sourcePort: 0 });
    await sleep(700);
    const during = ping(lab, 30);
    const report = await flood.done;
    const after = scrape(lab).values;
    const bad =
      (after.get('tunkit_udp_rx_bad_source_total') ?? 0) - (before.get('tunkit_udp_rx_bad_source_total') ?? 0);
    t.diagnostic(
      `flood ${report.sent} at ${report.rate}/s; ${bad} counted; ping loss ${during.loss}% avg ${during.avg} ms`,
    );
    assert.ok(bad > report.sent / 2, `${bad} of ${report.sent} datagrams from port 0 counted`);
    const cookies =
      (after.get('tunkit_wireguard_cookies_sent_total') ?? 0) -
      (before.get('tunkit_wireguard_cookies_sent_total') ?? 0);
    assert.equal(cookies, 0, 'nothing was answered to port 0');
    assert.equal(after.get('tunkit_udp_tx_bad_endpoint_total'), before.get('tunkit_udp_tx_bad_endpoint_total'));
    assert.ok(during.loss <= 10, `ping loss ${during.loss}% during the flood`);
  });

  it('SIGTERM during a flood exits 0 within 2 s and leaves nothing behind', async () => {
    const flood = startFlood(lab, attacker, { port: TUNNEL.port, rate: 5000, seconds: 3, pool });
    await sleep(1000);
    const started = performance.now();
    const code = await gateway.stop('SIGTERM');
    const ms = performance.now() - started;
    await flood.done;
    assert.equal(code, 0);
    assert.ok(ms < 2000, `exited after ${Math.round(ms)} ms`);
    assert.deepEqual(hostLeftovers(lab, 'gateway', names.gateway), []);
  });
});
