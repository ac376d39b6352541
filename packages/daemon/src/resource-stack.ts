// The daemon's resources in the order it acquired them, each with the step that releases it.
// start() holds each resource here the moment it has it; whatever ends the daemon (a failure
// half-way through the start, a signal, the device ending by itself, an uncaught exception)
// unwinds this one stack, newest first, so every way out undoes exactly what was done, once.

export interface ReleaseReport {
  /** What was released ("UAPI socket", "TUN device tk0"). */
  what: string;
  /** Set when its release threw; the unwinding went on with the next one. */
  error?: unknown;
}

interface Held {
  what: string;
  release: () => unknown;
}

/** Thrown by acquire() once the start was cancelled (a signal during the start): nothing more is acquired. */
export class StartCancelled extends Error {
  override readonly name = 'StartCancelled';
}

export class ResourceStack {
  private readonly held: Held[] = [];
  private unwinding: Promise<void> | undefined;

  /** `cancel`: once aborted, the next acquire() throws StartCancelled instead of acquiring. */
  constructor(readonly cancel?: AbortSignal) {}

  /** What is held now, oldest first (for logs and tests). */
  get holding(): readonly string[] {
    return this.held.map((h) => h.what);
  }

  /** Records a resource that was just acquired; `release` undoes it (it may be async). */
  hold(what: string, release: () => unknown): void {
    if (this.unwinding) throw new Error(`${what} acquired while the daemon's resources are being released`);
    this.held.push({ what, release });
  }

  /**
   * Acquires a resource and holds it: `release(resource)` undoes it. Throws StartCancelled, without
   * calling `acquire`, once the start was cancelled; a resource acquired while the cancel came is
   * still held (so released), then StartCancelled is thrown.
   */
  async acquire<T>(what: string, acquire: () => T | Promise<T>, release: (resource: T) => unknown): Promise<T> {
    this.throwIfCancelled(what);
    const resource = await acquire();
    this.hold(what, () => release(resource));
    this.throwIfCancelled(what);
    return resource;
  }

  /** Throws StartCancelled if the start was cancelled (call between steps that acquire nothing). */
  throwIfCancelled(what: string): void {
    if (this.cancel?.aborted) throw new StartCancelled(`start cancelled before ${what}: ${String(this.cancel.reason)}`);
  }

  /**
   * Releases everything, newest first. A release that throws is reported (`report`) and the rest
   * still run. Calling it again returns the same run; nothing may be held after it started.
   */
  unwind(report: (released: ReleaseReport) => void = () => {}): Promise<void> {
    this.unwinding ??= (async () => {
      while (this.held.length > 0) {
        const { what, release } = this.held.pop() as Held;
        try {
          await release();
          report({ what });
        } catch (error) {
          report({ what, error });
        }
      }
    })();
    return this.unwinding;
  }
}
