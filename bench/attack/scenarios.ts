// bench/attack's six scenarios (issue 12): what the attacker sends, from where, how fast. Each
// prepares its pool of datagrams against the running gateway (its public key; a cookie; a
// receiver index captured off the client's veth) and says how to flood with it.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MacSender, parseKey } from '@tunkit/wireguard';
// @ts-expect-error: plain ESM module without types.
import { captureReceiverIndex, startFlood, writePool } from '../../scripts/lab/attacker.mjs';
import type { Lab } from '../iperf3/contenders.js';
import { TUNNEL } from './gateways.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface Attacker {
  ns: string;
  address: string;
  gateway: string;
  sources: string[];
}

export interface FloodPlan {
  pool: string;
  rate: number;
  sources?: string[];
  sourcePort?: number;
  /** Said under the table (what the preparation found). */
  note?: string;
}

export interface Scenario {
  id: number;
  name: string;
  /** Extra source addresses the attacker namespace needs. */
  sources: number;
  prepare(context: { lab: Lab; attacker: Attacker; gatewayKey: string; dir: string; ping(): void }): Promise<FloodPlan>;
}

/** `count` initiations with random bodies and a valid MAC1 for `gatewayKey` (no cookie). */
export function forgedInitiations(gatewayKey: string, count: number): Uint8Array[] {
  const sender = new MacSender(parseKey(gatewayKey, 'PublicKey'));
  return Array.from({ length: count }, () => {
    const message = randomBytes(148);
    message.set([1, 0, 0, 0]);
    sender.seal(message, 0);
    return message;
  });
}

const COOKIE_SOURCE_PORT = 41000;

/** Runs cookie-fetch.ts in the attacker namespace while a valid-MAC1 flood keeps the gateway busy. */
async function fetchCookiePool(
  lab: Lab,
  attacker: Attacker,
  gatewayKey: string,
  dir: string,
): Promise<{ cookie: boolean; pool?: string }> {
  const loader = startFlood(lab, attacker, {
    port: TUNNEL.port,
    rate: 5000,
    seconds: 8,
    pool: writePool(forgedInitiations(gatewayKey, 4096), dir),
  });
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      attacker.ns,
      process.execPath,
      '--import',
      'tsx',
      join(here, 'cookie-fetch.ts'),
      attacker.gateway,
      String(TUNNEL.port),
      gatewayKey,
      attacker.address,
      String(COOKIE_SOURCE_PORT),
      '4096',
      '6',
      dir,
    ],
    { cwd: here },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  child.stderr.on('data', (chunk) => {
    err += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  loader.child.kill('SIGTERM');
  await loader.done.catch(() => undefined);
  if (code !== 0) throw new Error(`cookie-fetch exited ${code}: ${err.trim()}`);
  return JSON.parse(out.trim().split('\n').pop() as string);
}

export const SCENARIOS: Scenario[] = [
  {
    id: 1,
    name: '5,000 valid-MAC1 initiations/s, one host',
    sources: 0,
    async prepare({ gatewayKey, dir }) {
      return { pool: writePool(forgedInitiations(gatewayKey, 4096), dir), rate: 5000 };
    },
  },
  {
    id: 2,
    name: '5,000 valid-MAC1 initiations/s, 1,000 addresses',
    sources: 1000,
    async prepare({ attacker, gatewayKey, dir }) {
      return {
        pool: writePool(forgedInitiations(gatewayKey, 4096), dir),
        rate: 5000,
        sources: attacker.sources.slice(1),
      };
    },
  },
  {
    id: 3,
    name: '5,000 cookie-valid initiations/s, one host',
    sources: 0,
    async prepare({ lab, attacker, gatewayKey, dir }) {
      const fetched = await fetchCookiePool(lab, attacker, gatewayKey, dir);
      if (fetched.cookie && fetched.pool) {
        return { pool: fetched.pool, rate: 5000, sources: [attacker.address], sourcePort: COOKIE_SOURCE_PORT };
      }
      return {
        pool: writePool(forgedInitiations(gatewayKey, 4096), dir),
        rate: 5000,
        sources: [attacker.address],
        sourcePort: COOKIE_SOURCE_PORT,
        note: 'no cookie reply within 6 s of a 5,000/s flood (the gateway never went under load): valid MAC1 only',
      };
    },
  },
  {
    id: 4,
    name: '200,000 junk transport packets/s, captured receiver index',
    sources: 0,
    async prepare({ lab, dir, ping }) {
      let done = false;
      const captured = (captureReceiverIndex(lab, TUNNEL.port, 8) as Promise<Uint8Array | undefined>).finally(() => {
        done = true;
      });
      // Transport messages from the client to capture, until one was (the capture starts in its
      // own process: the first ping may go before it listens).
      while (!done) {
        ping();
        await new Promise((r) => setTimeout(r, 250));
      }
      const index = await captured;
      const pool = Array.from({ length: 1024 }, () => {
        const message = randomBytes(16 + 80 + 16); // header, an 80-byte "packet", tag
        message.set([4, 0, 0, 0]);
        if (index) message.set(index, 4);
        // A counter below 2^32, so that it passes every check before the AEAD (a random 64-bit one
        // would be refused as past REJECT_AFTER_MESSAGES, for nothing): each costs a decryption.
        message.set([0, 0, 0, 0], 12);
        return message;
      });
      return {
        pool: writePool(pool, dir),
        rate: 200_000,
        note: index ? undefined : 'no transport message captured: random receiver indices',
      };
    },
  },
  {
    id: 5,
    name: '30,000 random datagrams/s',
    sources: 0,
    async prepare({ dir }) {
      const pool = Array.from({ length: 4096 }, () => randomBytes(1 + Math.floor(Math.random() * 1400)));
      return { pool: writePool(pool, dir), rate: 30_000 };
    },
  },
  {
    id: 6,
    name: '5,000 valid-MAC1 initiations/s from source port 0',
    sources: 0,
    async prepare({ gatewayKey, dir }) {
      return { pool: writePool(forgedInitiations(gatewayKey, 4096), dir), rate: 5000, sourcePort: 0 };
    },
  },
];
