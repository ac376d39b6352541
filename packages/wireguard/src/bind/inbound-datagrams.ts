// The receive side every Bind shares: a bounded PacketQueue of datagrams tagged with their
// sender, drained a batch at a time by a single consumer, dropping (and counting) what does not fit.

import { type PacketBatch, PacketQueue, TunConfigError } from '@tunkit/tun-core';
import type { BindStats, Endpoint } from './bind.js';

export class InboundDatagrams {
  private readonly queue: PacketQueue<Endpoint>;
  private recvPending = false;
  private closed = false;

  constructor(
    capacity: number,
    readonly maxDatagram: number,
    private readonly counters: BindStats,
  ) {
    this.queue = new PacketQueue<Endpoint>({ capacity, slotSize: maxDatagram });
  }

  /** Queues one received datagram; counts it, or counts a drop when empty, too large or the queue is full. */
  push(datagram: Uint8Array, from: Endpoint): boolean {
    if (
      this.closed ||
      datagram.length === 0 ||
      datagram.length > this.maxDatagram ||
      !this.queue.push(datagram, from)
    ) {
      this.counters.rxDropped++;
      return false;
    }
    this.counters.rxDatagrams++;
    this.counters.rxBytes += datagram.length;
    return true;
  }

  /** Bind.recvMany: waits for one datagram, then moves as many as fit; 0 once closed. */
  async recvMany(batch: PacketBatch, from: Endpoint[]): Promise<number> {
    if (this.recvPending) throw new TunConfigError('ERR_TUN_RECV_PENDING', 'recvMany is already pending on this bind');
    if (this.closed) return 0;
    this.recvPending = true;
    try {
      if (this.queue.length === 0 && !(await this.queue.readable())) return 0;
      if (this.closed) return 0;
      batch.clear();
      return this.queue.drainInto(batch, from as (Endpoint | undefined)[]);
    } finally {
      this.recvPending = false;
    }
  }

  /** Closes: a pending recvMany resolves 0; what was queued is dropped (counted). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.counters.rxDropped += this.queue.closeAndDiscard();
  }
}
