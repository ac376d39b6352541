// "Under load", as wireguard-go (IsUnderLoad, UnderLoadAfterTime) and the kernel decide it: the
// handshake queue holds at least an eighth of its capacity, or did less than a second ago. Only
// messages with a valid MAC1 enter that queue, so junk alone cannot switch it on; the second of
// hysteresis keeps it from flapping as a flood's queue drains and refills. Under load, an
// initiation or response needs a valid MAC2 (a cookie), and sources are rate-limited.

/** How long the device stays under load after the queue was last deep enough (ms). */
export const UNDER_LOAD_HOLD = 1000;

export class LoadGauge {
  private underLoadUntil = -Infinity;
  /** The queue depth at and above which the device is under load. */
  readonly threshold: number;

  constructor(
    queueCapacity: number,
    private readonly hold = UNDER_LOAD_HOLD,
  ) {
    this.threshold = Math.max(1, Math.floor(queueCapacity / 8));
  }

  /** Whether the device is under load at `now` (ms) with `depth` messages waiting. */
  check(depth: number, now: number): boolean {
    if (depth >= this.threshold) {
      this.underLoadUntil = now + this.hold;
      return true;
    }
    return now < this.underLoadUntil;
  }
}
