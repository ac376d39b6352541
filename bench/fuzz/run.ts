// bench/fuzz: feeds 10^6 (or --inputs N) random and mutated datagrams of all four message types
// (seeded from real handshakes) to the WireGuard decoders of three Engines, two thirds of them
// under load and from varied senders; fails if anything throws, prints the kinds and drop reasons.
// Run: node --import tsx bench/fuzz/run.ts [--inputs 1000000]
import { parseArgs } from 'node:util';
import { fuzzEngine } from '@tunkit/wireguard/testing';
import { calibrationLine } from '../lib/calibration.js';

const { values } = parseArgs({ options: { inputs: { type: 'string', default: '1000000' } } });
const started = performance.now();
const result = fuzzEngine(Number(values.inputs), 32);
console.log(
  `fuzzed ${result.inputs} inputs in ${((performance.now() - started) / 1000).toFixed(1)} s: ${result.dropped} dropped, none thrown`,
);
console.log('inputs by kind:', result.kinds, `under load: ${result.underLoad}`);
console.log('drop reasons:', result.reasons);
console.log(calibrationLine());
