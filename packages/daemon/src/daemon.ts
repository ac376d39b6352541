// The daemon's life: options and config → start() acquires the Tun, the UDP socket, the WireGuard
// Device, the host's routes, rules, forwarding and DNS, the UAPI socket and metrics, in order, on
// one ResourceStack → running until a stop reason (a signal, the device ending by itself, an
// uncaught exception; see lifecycle.ts) → the stack unwinds → exit 0 (asked to stop) or 1, within
// 2 s. A start that fails part-way unwinds the same stack, prints one line and exits 1.

import { setTimeout as sleep } from 'node:timers/promises';
import { type LoadPlatformTunOptions, loadPlatformTun } from '@tunkit/tun-core';
import { hostApi, undoLeftovers } from './cleanup.js';
import { helpText, parseCommandLine, type Role } from './cli.js';
import { readConfigFile } from './config-file.js';
import { Health } from './health.js';
import { checkHooksAllowed, downHooksBudgetMs, saveConfigWarning } from './hooks.js';
import { Journal } from './journal.js';
import { describe, exitCodeOf, Lifecycle, type StopReason } from './lifecycle.js';
import { createLogger, type Logger } from './logger.js';
import { printableConfig } from './print-config.js';
import { reload } from './reload.js';
import { ResourceStack } from './resource-stack.js';
import { systemdNotifier } from './sd-notify.js';
import { type DaemonSettings, nameFromConfigPath, resolveSettings } from './settings.js';
import { type RunningDaemon, start } from './start.js';
import { StartupError, startupErrorLine } from './startup-error.js';

export interface MainOptions {
  role: Role;
  argv: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** The app's version (its package.json), printed by --version. */
  version?: string;
  /** Imports the platform package from the app's own dependencies (see loadPlatformTun). */
  importer?: LoadPlatformTunOptions['importer'];
  /** Where --help, --print-config and startup errors go (default process.stdout / process.stderr). */
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/** Milliseconds a stop (releasing everything) may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 1800;
/**
 * Milliseconds the process may live on after main() resolved. Everything was released by then,
 * so nothing should keep it alive; if something does (a bug), the process still exits, and logs
 * what was left open.
 */
const EXIT_GRACE_MS = 150;
/** Milliseconds a stop waits for a reload under way (see run). */
const RELOAD_WAIT_MS = 500;

/** Runs the daemon to completion; resolves the process exit code. */
export async function main(options: MainOptions): Promise<number> {
  const program = `tunkit-${options.role}`;
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = options.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const env = options.env ?? process.env;
  try {
    const values = parseCommandLine(options.role, options.argv, env);
    if (values.help) {
      out(helpText(options.role));
      return 0;
    }
    if (values.version) {
      out(`${program} ${options.version ?? 'unknown'}`);
      return 0;
    }
    const configPath = values.config as string | undefined;
    if (values.cleanup) {
      const name = (values.name as string | undefined) ?? (configPath ? nameFromConfigPath(configPath) : undefined);
      if (!name)
        throw new StartupError('--cleanup needs --name <interface> (or --config <file>) to know what to clean');
      const platform = await loadPlatformTun({ importer: options.importer });
      const journal = Journal.open(name);
      if (journal.ownerAlive()) {
        throw new StartupError(
          `tunkit process ${journal.ownerPid} is running interface ${name}: stop it instead (kill ${journal.ownerPid})`,
        );
      }
      if (journal.pending.length === 0) out(`nothing to clean up for ${name} (${journal.path} is absent)`);
      else out(await undoLeftovers(journal, name, hostApi(platform), (line) => out(line)));
      return 0;
    }
    if (!configPath)
      throw new StartupError(
        `no configuration: pass the interface (${program} wg0 reads /etc/wireguard/wg0.conf), --config <wg-quick file> or TUNKIT_CONFIG; see --help`,
      );
    const config = await readConfigFile(configPath);
    const settings = resolveSettings(options.role, values, configPath, config, { isTty: process.stdout.isTTY, env });
    if (values['print-config']) {
      out(printableConfig(settings).trimEnd());
      return 0;
    }
    checkHooksAllowed(settings.config, settings.allowHooks, configPath);
    const log = createLogger({ level: settings.logLevel, format: settings.logFormat, name: program });
    const saveConfig = saveConfigWarning(settings.config);
    if (saveConfig) log.warn(saveConfig);
    // A reload reads the file again with the same options (flags and variables still win over it).
    const reread = async () =>
      resolveSettings(options.role, values, configPath, await readConfigFile(configPath), {
        isTty: process.stdout.isTTY,
        env,
      });
    return await run(settings, options, log, reread, (error) => err(startupErrorLine(program, error)));
  } catch (error) {
    err(startupErrorLine(program, error));
    return 1;
  }
}

/**
 * Starts the daemon and runs it until a stop reason; then releases everything it acquired and
 * resolves the exit code. `startFailed` prints the one line of a start that failed.
 */
async function run(
  settings: DaemonSettings,
  options: MainOptions,
  log: Logger,
  reread: () => Promise<DaemonSettings>,
  startFailed: (error: unknown) => void,
): Promise<number> {
  const lifecycle = new Lifecycle(log);
  const stack = new ResourceStack(lifecycle.cancel.signal);
  const health = new Health(settings.name);
  // Taken out of the environment now, before a hook could inherit it; sent with the platform's API.
  let running: RunningDaemon | undefined;
  const notify = systemdNotifier(() => running?.api, process.env, log);
  let code: number;
  try {
    const daemon = await start(settings, {
      log,
      stack,
      health,
      version: options.version ?? 'unknown',
      importer: options.importer,
      onDeviceEnded: (error) => lifecycle.stop({ kind: 'device-ended', error }),
    });
    running = daemon;
    notify.ready(upStatus(daemon));
    // SIGHUP: the file again, its endpoint names resolved once more (no retries: the daemon runs on).
    lifecycle.serveReloads(async () => {
      notify.reloading();
      await reload(
        daemon,
        async () => {
          const next = await reread();
          const config = await daemon.endpoints.resolveConfig(next.config, { retries: 0, keepUnresolved: true });
          return { ...next, config };
        },
        log,
        lifecycle.cancel.signal,
      );
      notify.ready(upStatus(daemon));
    });
    const reason = await lifecycle.stopped;
    notify.stopping(describeStop(reason));
    health.stopping(describeStop(reason));
    logStop(log, settings, reason);
    code = exitCodeOf(reason);
  } catch (error) {
    // Stopping (a signal, the device ending): whatever the start threw then (StartCancelled, a hook
    // killed by the cancel) follows from that reason.
    if (lifecycle.stopping) {
      const reason = await lifecycle.stopped;
      health.stopping(describeStop(reason));
      logStop(log, settings, reason, 'before it was up');
      code = exitCodeOf(reason);
    } else {
      health.stopping(`the start failed: ${describe(error)}`);
      startFailed(error);
      code = 1;
    }
  }
  // The down hooks may take their own time on top (each line at most HOOK_TIMEOUT_MS).
  const deadline = lifecycle.deadline(SHUTDOWN_DEADLINE_MS + downHooksBudgetMs(settings.config), code || 1);
  // A reload under way either applies (quickly: its reading is done) or, still reading, will
  // apply nothing now that the daemon stops: it is waited for, but not for long (its name lookups
  // may take a resolver's timeout).
  await Promise.race([lifecycle.reloadsSettled(), sleep(RELOAD_WAIT_MS, undefined, { ref: false })]);
  await stack.unwind(({ what, error }) => {
    if (error) log.error({ error: describe(error) }, `could not release the ${what}`);
    else log.debug(`released the ${what}`);
  });
  clearTimeout(deadline);
  lifecycle.dispose();
  if (code === 0) log.info('stopped');
  exitSoon(code, log);
  return code;
}

/** systemd's STATUS= while up. */
function upStatus(daemon: RunningDaemon): string {
  const peers = [...daemon.device.engine.peers()].length;
  return `${daemon.settings.role} up: ${daemon.tun.name}, UDP port ${daemon.device.listenPort}, ${peers} peer${peers === 1 ? '' : 's'}`;
}

/** Why the daemon stops, in a few words (for /healthz and systemd's STATUS=). */
function describeStop(reason: StopReason): string {
  switch (reason.kind) {
    case 'signal':
      return `stopping on ${reason.signal}`;
    case 'device-ended':
      return `the TUN device ended by itself: ${reason.error.message}`;
    case 'fatal':
      return `stopping after an uncaught exception: ${describe(reason.error)}`;
  }
}

/** The one line that says why the daemon stops: info when asked to, error or fatal otherwise. */
function logStop(log: Logger, settings: DaemonSettings, reason: StopReason, when?: string): void {
  const suffix = when ? ` ${when}` : '';
  switch (reason.kind) {
    case 'signal':
      log.info({ signal: reason.signal }, `stopping${suffix}`);
      return;
    case 'device-ended': {
      const { errno, syscall } = reason.error as { errno?: string; syscall?: string };
      log.error(
        { interface: settings.name, error: reason.error.message, errno, syscall },
        `the TUN device ended by itself${suffix}: undoing the host changes and exiting`,
      );
      return;
    }
    case 'fatal':
      log.fatal(
        { error: describe(reason.error), stack: (reason.error as Error | undefined)?.stack },
        `uncaught exception${suffix}: undoing the host changes and exiting`,
      );
      return;
  }
}

/** Exits with `code` once EXIT_GRACE_MS passed, if anything still keeps the process alive then. */
function exitSoon(code: number, log: Logger): void {
  setTimeout(() => {
    log.warn({ open: process.getActiveResourcesInfo() }, 'still running after the stop: exiting');
    process.exit(code);
  }, EXIT_GRACE_MS).unref();
}
