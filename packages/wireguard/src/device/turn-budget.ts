// A loop's share of the JS thread. A loop whose source stays ready (a socket under a flood, a
// busy Tun) would otherwise run from one resolved promise to the next without ever returning to
// the event loop: timers, keepalives, the UAPI socket, /metrics and signals would wait for the
// flood to stop. Each loop counts the work it did since it last gave way and, past a budget of
// items or of milliseconds, awaits setImmediate: the event loop then runs its timers and polls
// every handle once before the loop goes on. setImmediate, not a timer: it waits for nothing when
// nothing else is ready, so an idle machine loses no throughput. (Firezone hit the same
// starvation in its event loop and now breaks it every few thousand iterations.)

import { setImmediate as nextTurn } from 'node:timers/promises';

export class TurnBudget {
  private items = 0;
  private since = performance.now();

  constructor(
    /** Items (datagrams, packets, handshakes) after which the loop gives way. */
    private readonly maxItems: number,
    /** Milliseconds after which the loop gives way, however few items that was. */
    private readonly maxMs: number,
  ) {}

  /**
   * Counts `items` done. Once the budget is spent, gives way to the event loop (one turn) and
   * starts a new budget; otherwise returns at once.
   */
  async spend(items: number): Promise<void> {
    this.items += items;
    if (this.items < this.maxItems && performance.now() - this.since < this.maxMs) return;
    await nextTurn();
    this.items = 0;
    this.since = performance.now();
  }
}
