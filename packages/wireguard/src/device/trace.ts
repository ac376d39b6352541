// The data path's trace: for each batch that crossed the Device, when its first packet was ready
// (the kernel's receive time of a UDP datagram, or a TUN queue thread's wake-up; 0 when unknown),
// when it was taken, when its sealing or opening was done, and when it was handed on (the send or
// the Tun write returned). From the native data plane's threads and from the JS loops alike, in
// one clock (CLOCK_MONOTONIC nanoseconds: process.hrtime's and the native threads'), so two
// daemons on one machine line up. A debugging aid, off by default: when off, each JS batch pays
// one check of a field. bench/latency reads it to find where a lone packet waits.

/** Where a batch went: from the TUN to UDP, or from UDP to the TUN; sealed/opened natively or on the JS thread. */
export type TraceKind = 'tun→udp native' | 'udp→tun native' | 'tun→udp js' | 'udp→tun js';

export interface TraceEvent {
  kind: TraceKind;
  /** The native thread (TUN queue, UDP receive thread) that carried it; 0 for the JS thread. */
  thread: number;
  /** Packets in the batch (sealed or opened). */
  count: number;
  /** Nanoseconds (CLOCK_MONOTONIC); readyAt 0: not known. */
  readyAt: number;
  start: number;
  crypto: number;
  done: number;
}

const FIELDS = 7;

/** JS-side events: a fixed ring of the last `capacity` batches, nothing allocated per batch. */
export class TraceRecorder {
  private readonly ring: Float64Array;
  private next = 0;

  constructor(private readonly capacity = 16384) {
    this.ring = new Float64Array(capacity * FIELDS);
  }

  /** Monotonic nanoseconds, the native threads' clock. */
  static now(): number {
    return Number(process.hrtime.bigint());
  }

  record(kind: 2 | 3, count: number, start: number, crypto: number, done: number): void {
    const at = (this.next++ % this.capacity) * FIELDS;
    const r = this.ring;
    r[at] = kind;
    r[at + 1] = 0;
    r[at + 2] = count;
    r[at + 3] = 0;
    r[at + 4] = start;
    r[at + 5] = crypto;
    r[at + 6] = done;
  }

  /** The events held (oldest first), as raw rows for decodeTrace. */
  rows(): Float64Array {
    const held = Math.min(this.next, this.capacity);
    const out = new Float64Array(held * FIELDS);
    const first = this.next - held;
    for (let i = 0; i < held; i++) {
      const at = ((first + i) % this.capacity) * FIELDS;
      out.set(this.ring.subarray(at, at + FIELDS), i * FIELDS);
    }
    return out;
  }
}

const KINDS: readonly TraceKind[] = ['tun→udp native', 'udp→tun native', 'tun→udp js', 'udp→tun js'];

/** Rows of FIELDS numbers ([kind, thread, count, readyAt, start, crypto, done]) as events. */
export function decodeTrace(rows: Float64Array, count = rows.length / FIELDS): TraceEvent[] {
  const events: TraceEvent[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * FIELDS;
    events.push({
      kind: KINDS[rows[at] as number] ?? 'tun→udp native',
      thread: rows[at + 1] as number,
      count: rows[at + 2] as number,
      readyAt: rows[at + 3] as number,
      start: rows[at + 4] as number,
      crypto: rows[at + 5] as number,
      done: rows[at + 6] as number,
    });
  }
  return events;
}

export const TRACE_FIELDS = FIELDS;
