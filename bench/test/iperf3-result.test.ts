// bench/iperf3's reading of iperf3's output: a run that iperf3 reports as an error (iperf3 3.12 exits
// 0 with -J and puts the error in its JSON) is a failed sample, counted and printed, that no median
// takes in; it used to crash the whole bench on `end.sum_received` being undefined.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { privilegedSuite } from '@tunkit/tun-core/testing';
import { iperfResult, type Sample } from '../iperf3/measure.js';
import { type ContenderResult, failures, gbps, TUNKIT_DEFAULT, targetChecks } from '../iperf3/targets.js';

const sample = (gbitPerSecond: number, error?: string): Sample => ({
  gbps: gbitPerSecond,
  bytes: gbitPerSecond * 1.25e9,
  retransmits: 0,
  cpuSeconds: { client: 1, gateway: 1 },
  threads: {},
  ...(error === undefined ? {} : { gbps: Number.NaN, bytes: 0, error }),
});

describe('bench/iperf3: a failed iperf3 run', () => {
  it(
    'is a sample with the error and no figures, for a run iperf3 itself reports failed',
    privilegedSuite('iperf3 in a private network namespace'),
    () => {
      // A real iperf3 in a namespace of its own (only its loopback), to a port nothing listens on.
      const ran = spawnSync(
        'unshare',
        ['-n', 'sh', '-c', 'ip link set lo up && exec iperf3 -c 127.0.0.1 -p 5999 -t 1 -J'],
        { encoding: 'utf8' },
      );
      assert.equal(ran.error, undefined, `unshare/iperf3 could not run: ${ran.error}`);
      const result = iperfResult({ stdout: ran.stdout, stderr: ran.stderr, code: ran.status }, false);
      assert.match(result.error ?? '', /^iperf3: unable to connect to server/);
      assert.ok(Number.isNaN(result.gbps));
      assert.equal(result.bytes, 0);
    },
  );

  it('is a failed sample when iperf3 printed no JSON or no totals', () => {
    const killed = iperfResult({ stdout: '', stderr: '', code: null }, false);
    assert.equal(killed.error, 'iperf3 printed no JSON (killed)');
    const noTotals = iperfResult({ stdout: '{"start":{},"intervals":[],"end":{}}', stderr: '', code: 1 }, true);
    assert.equal(noTotals.error, 'iperf3 reported no UDP totals (exit 1)');
  });

  it('reads a complete run', () => {
    const stdout = JSON.stringify({
      end: { sum_received: { bits_per_second: 2e9, bytes: 2.5e9 }, sum_sent: { retransmits: 7 } },
    });
    assert.deepEqual(iperfResult({ stdout, stderr: '', code: 0 }, false), { gbps: 2, bytes: 2.5e9, retransmits: 7 });
  });

  it('is left out of the medians, counted, and the targets say a median of fewer than 3 runs', () => {
    const result: ContenderResult = {
      samples: { tcp: [sample(1), sample(3), sample(Number.NaN, 'iperf3: the server is busy')], 'tcp-reverse': [] },
      pingIdle: [],
      pingLoaded: [],
      rssMb: [],
    };
    assert.equal(gbps(result, 'tcp'), 2);
    assert.deepEqual(failures(result), ['tcp run 3: iperf3: the server is busy']);
    const checks = targetChecks({ [TUNKIT_DEFAULT]: result }, '', 'none');
    assert.ok(
      checks.some((line) => line.includes('a median here is of 0 run(s), the issue asks for ≥ 3')),
      checks.join('\n'),
    );
  });
});
