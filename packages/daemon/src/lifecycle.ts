// What ends a daemon, whichever comes first, and how it reacts: SIGINT, SIGTERM and SIGQUIT stop
// it (exit 0); the TUN device ending by itself, an uncaught exception or an unhandled rejection
// stop it too (exit 1). Each way takes the same road out (the daemon's ResourceStack unwinds),
// and a stop that overruns its deadline exits the process anyway. SIGHUP asks for a reload.
// Node's defaults would do otherwise: SIGHUP kills on the spot, and an uncaught exception exits
// without undoing a single host change.

import type { Logger } from './logger.js';

export type StopReason =
  | { kind: 'signal'; signal: NodeJS.Signals }
  /** The Device's endedBy: the Tun ended under it (interface deleted, adapter removed). */
  | { kind: 'device-ended'; error: Error }
  /** An uncaught exception or unhandled rejection (the daemon's state can no longer be trusted). */
  | { kind: 'fatal'; error: unknown };

/** The exit code of a stop: 0 when asked to stop, 1 when something went wrong. */
export function exitCodeOf(reason: StopReason): number {
  return reason.kind === 'signal' ? 0 : 1;
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGQUIT'] as const;

export type ReloadHandler = () => Promise<void>;

/**
 * The process-wide events of one daemon run. Created before the first resource is acquired, so a
 * signal during the start cancels it (`cancel`), and disposed of when the run is over.
 */
export class Lifecycle {
  /** Aborted by the first stop reason: a start still under way gives up (see ResourceStack). */
  readonly cancel = new AbortController();
  /** Resolves with the first stop reason. */
  readonly stopped: Promise<StopReason>;
  private firstReason: StopReason | undefined;
  private resolveStopped!: (reason: StopReason) => void;
  private reloadHandler: ReloadHandler | undefined;
  private reloadWanted = false;
  private reloading: Promise<void> | undefined;
  private readonly onStopSignal = (signal: NodeJS.Signals) => this.stop({ kind: 'signal', signal });
  private readonly onHangup = () => this.requestReload();
  private readonly onUncaught = (error: unknown) => this.stop({ kind: 'fatal', error });

  constructor(private readonly log: Logger) {
    this.stopped = new Promise((resolve) => {
      this.resolveStopped = resolve;
    });
    for (const signal of STOP_SIGNALS) process.on(signal, this.onStopSignal);
    process.on('SIGHUP', this.onHangup);
    // Node routes unhandled rejections here as well (--unhandled-rejections=throw, the default).
    process.on('uncaughtException', this.onUncaught);
  }

  get stopping(): boolean {
    return this.firstReason !== undefined;
  }

  /** Records why the daemon stops; the first reason wins, later ones are only logged. */
  stop(reason: StopReason): void {
    if (this.firstReason) {
      if (reason.kind === 'fatal') this.log.error({ error: describe(reason.error) }, 'error while stopping');
      else if (reason.kind === 'signal') this.log.info({ signal: reason.signal }, 'already stopping');
      return;
    }
    this.firstReason = reason;
    this.cancel.abort(reason.kind === 'signal' ? reason.signal : reason.kind);
    this.resolveStopped(reason);
  }

  /**
   * Serves SIGHUP with `handler` from now on (a SIGHUP that came during the start is served at
   * once). Reloads never overlap: SIGHUPs during a reload make one more after it.
   */
  serveReloads(handler: ReloadHandler): void {
    this.reloadHandler = handler;
    if (this.reloadWanted) this.requestReload();
  }

  /** Resolves once no reload runs (the stop waits for one under way before undoing anything). */
  async reloadsSettled(): Promise<void> {
    while (this.reloading) await this.reloading;
  }

  private requestReload(): void {
    if (this.stopping) {
      this.log.info('SIGHUP ignored: stopping');
      return;
    }
    this.reloadWanted = true;
    if (!this.reloadHandler || this.reloading) return; // served after the start, or after this reload
    const handler = this.reloadHandler;
    this.reloading = (async () => {
      while (this.reloadWanted && !this.stopping) {
        this.reloadWanted = false;
        try {
          await handler();
        } catch (error) {
          this.log.error({ error: describe(error) }, 'reload failed');
        }
      }
    })().finally(() => {
      this.reloading = undefined;
    });
  }

  /**
   * Exits the process with `code` if the stop has not finished after `ms`, so no stop can hang
   * (systemd would wait for its own timeout, then SIGKILL, leaving the host changes behind).
   */
  deadline(ms: number, code: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.log.error(`did not stop within ${ms} ms; exiting anyway`);
      process.exit(code);
    }, ms);
    timer.unref();
    return timer;
  }

  /** Removes the process handlers: Node's defaults apply again. */
  dispose(): void {
    for (const signal of STOP_SIGNALS) process.off(signal, this.onStopSignal);
    process.off('SIGHUP', this.onHangup);
    process.off('uncaughtException', this.onUncaught);
  }
}

/** An error's message for a log line (the stack is logged by the caller where it helps). */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
