// --trace FILE: the data path's trace (the Device's traceEvents: per batch, when it was ready,
// taken, sealed or opened and passed on), written once the Device has stopped, as JSON that
// bench/latency reads. Times are CLOCK_MONOTONIC nanoseconds, the same clock in every process of
// the machine, so two daemons' traces line up.

import { writeFileSync } from 'node:fs';
import type { Device } from '@tunkit/wireguard';
import type { Logger } from './logger.js';

/** Writes the stopped Device's trace to `path`; a failure is logged, never thrown (the daemon is stopping). */
export function writeTrace(path: string, name: string, device: Device, log: Logger): void {
  try {
    const events = device.traceEvents();
    const drops = Object.fromEntries(Object.entries(device.engine.drops).filter(([, n]) => n > 0));
    writeFileSync(path, `${JSON.stringify({ interface: name, pid: process.pid, drops, events })}\n`);
    log.info({ path, events: events.length }, 'trace written');
  } catch (error) {
    log.error({ path, error: (error as Error).message }, 'could not write the trace');
  }
}
