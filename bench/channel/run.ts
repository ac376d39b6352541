// bench/channel: items/s through BatchChannel received in batches of 1, 32 and 100, side by side
// with a plain array queue that resolves one Promise per item (the per-item async pattern the
// batch design replaces). One producer, one consumer, both on the JS thread, with backpressure.
// Run: pnpm --filter @tunkit/bench bench:channel   (or: node --import tsx bench/channel/run.ts)

import { BatchChannel } from '@tunkit/tun-core';
import { markdownTable, median, writeResults } from '../lib/report.js';

const ITEMS = Number(process.env.BENCH_ITEMS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CAPACITY = 1024;

/** The baseline: an unbounded-looking array queue with one promise per received item. */
class PromisePerItemQueue<T> {
  private items: T[] = [];
  private waiter: ((item: T) => void) | undefined;
  push(item: T): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(item);
    } else this.items.push(item);
  }
  get length(): number {
    return this.items.length;
  }
  shift(): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift() as T);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }
}

async function runBatchChannel(batch: number): Promise<number> {
  const channel = new BatchChannel<number>(CAPACITY);
  const started = performance.now();
  const producer = (async () => {
    for (let i = 0; i < ITEMS; i++) {
      while (!channel.send(i)) await channel.sendReady();
    }
    channel.close();
  })();
  const out: number[] = [];
  let received = 0;
  let checksum = 0;
  for (;;) {
    out.length = 0;
    const n = await channel.recvMany(out, batch);
    if (n === 0) break;
    for (let i = 0; i < n; i++) checksum += out[i] as number;
    received += n;
  }
  await producer;
  if (received !== ITEMS || checksum !== (ITEMS * (ITEMS - 1)) / 2) throw new Error(`lost items: ${received}`);
  return ITEMS / ((performance.now() - started) / 1000);
}

async function runPromisePerItem(): Promise<number> {
  const queue = new PromisePerItemQueue<number>();
  const started = performance.now();
  const producer = (async () => {
    for (let i = 0; i < ITEMS; i++) {
      queue.push(i);
      // The same bound as the channel, enforced the only way this queue allows: yield to the consumer.
      if (queue.length >= CAPACITY) await new Promise((r) => setImmediate(r));
    }
  })();
  let checksum = 0;
  for (let i = 0; i < ITEMS; i++) checksum += await queue.shift();
  await producer;
  if (checksum !== (ITEMS * (ITEMS - 1)) / 2) throw new Error('lost items');
  return ITEMS / ((performance.now() - started) / 1000);
}

const contenders: { name: string; run: () => Promise<number> }[] = [
  { name: 'array queue, one Promise per item', run: runPromisePerItem },
  { name: 'BatchChannel, batch 1', run: () => runBatchChannel(1) },
  { name: 'BatchChannel, batch 32', run: () => runBatchChannel(32) },
  { name: 'BatchChannel, batch 100', run: () => runBatchChannel(100) },
];

const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
// Interleave contenders run by run so drift in machine load hits all of them alike.
for (let run = 0; run < RUNS; run++) {
  for (const c of contenders) samples.get(c.name)?.push(await c.run());
}
const baseline = median(samples.get(contenders[0]?.name as string) ?? []);
const rows = contenders.map((c) => {
  const values = samples.get(c.name) ?? [];
  return {
    contender: c.name,
    'items/s (median)': median(values),
    'vs baseline': `${(median(values) / baseline).toFixed(2)}×`,
  };
});
console.log(
  `\nBatchChannel throughput: ${ITEMS.toLocaleString('en-US')} items, bound ${CAPACITY}, median of ${RUNS} runs\n`,
);
console.log(markdownTable(rows));
const path = writeResults('channel', {
  items: ITEMS,
  capacity: CAPACITY,
  runs: RUNS,
  rows,
  samples: Object.fromEntries(samples),
});
console.log(`\nwrote ${path}`);
