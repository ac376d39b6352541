// The daemon's life: options and config → Tun (the platform's, loaded at run time) + UDP Bind +
// WireGuard Device → host routes, rules, forwarding, DNS → UAPI socket and metrics → running
// until SIGINT/SIGTERM → undo everything, close, exit 0 within 2 s.

import { type LoadPlatformTunOptions, loadPlatformTun, type Tun, type TunPlatform } from '@tunkit/tun-core';
import {
  DEFAULT_UAPI_DIR,
  Device,
  defaultAead,
  nativeBindUnavailable,
  openBind,
  type UapiHandler,
  UapiServer,
  type WgQuickConfig,
} from '@tunkit/wireguard';
import { helpText, parseCommandLine, type Role } from './cli.js';
import { readConfigFile } from './config-file.js';
import { applyDns } from './host/dns.js';
import { ignoring, isLinuxHostApi, type LinuxHostApi } from './host/linux-api.js';
import { addMasquerade, enableForwarding } from './host/linux-forwarding.js';
import { chooseSlot, type InstalledRoutes, installRoutes, planRoutes } from './host/linux-routing.js';
import { describeChange, undoLinuxChange } from './host/linux-undo.js';
import { Journal, tablesInUse } from './journal.js';
import { createLogger, type Logger } from './logger.js';
import { MetricsServer, renderMetrics } from './metrics.js';
import { printableConfig } from './print-config.js';
import { type DaemonSettings, nameFromConfigPath, resolveSettings } from './settings.js';
import { StartupError, startupErrorLine, uapiStartupError } from './startup-error.js';
import { watchHandshakes } from './watcher.js';

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

/** See TimerSettings.unansweredDataTimeout: REKEY_TIMEOUT for the client role. */
const CLIENT_UNANSWERED_DATA_MS = 5_000;

/** Milliseconds a shutdown may take before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 1800;

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
        `no configuration: pass --config <wg-quick file> (or TUNKIT_CONFIG); see ${program} --help`,
      );
    const config = await readConfigFile(configPath);
    const settings = resolveSettings(options.role, values, configPath, config, { isTty: process.stdout.isTTY });
    if (values['print-config']) {
      out(printableConfig(settings).trimEnd());
      return 0;
    }
    const log = createLogger({ level: settings.logLevel, format: settings.logFormat, name: program });
    const running = await start(settings, options, log);
    return await running.done;
  } catch (error) {
    err(startupErrorLine(program, error));
    return 1;
  }
}

function hostApi(platform: TunPlatform): LinuxHostApi | undefined {
  return isLinuxHostApi(platform) ? platform : undefined;
}

/**
 * Undoes the host changes a previous run of `name` left in `journal` (it did not exit cleanly).
 * Works on the caller's Journal object, so what it records next holds only the new changes.
 */
async function undoLeftovers(
  journal: Journal,
  name: string,
  api: LinuxHostApi | undefined,
  say: (line: string) => void,
): Promise<string> {
  if (!api) throw new StartupError('--cleanup of host changes is implemented for Linux only');
  const count = journal.pending.length;
  await journal.undoAll(
    (change) => {
      undoLinuxChange(api, change);
      say(`removed ${describeChange(change)}`);
    },
    (change, error) => say(`could not undo ${describeChange(change)}: ${(error as Error).message}`),
  );
  return `cleaned up ${count} change(s) left by ${name}`;
}

interface Running {
  done: Promise<number>;
}

function addPeers(device: Device, config: WgQuickConfig): void {
  for (const peer of config.peers) {
    device.addPeer(
      {
        publicKey: peer.publicKey,
        presharedKey: peer.presharedKey,
        endpoint: peer.endpoint ? { address: peer.endpoint.host, port: peer.endpoint.port } : undefined,
        persistentKeepalive: peer.persistentKeepalive,
      },
      peer.allowedIps,
    );
  }
}

async function start(settings: DaemonSettings, options: MainOptions, log: Logger): Promise<Running> {
  const platform = await loadPlatformTun({ importer: options.importer });
  const api = hostApi(platform);
  const journal = Journal.open(settings.name);
  if (journal.ownerAlive()) {
    throw new StartupError(
      `tunkit process ${journal.ownerPid} already runs interface ${settings.name}: stop it first, or pick another --name`,
    );
  }
  if (journal.pending.length > 0) {
    log.warn({ journal: journal.path }, 'a previous run did not exit cleanly: undoing what it left');
    if (api) log.warn(await undoLeftovers(journal, settings.name, api, (line) => log.warn(line)));
  }
  const undo: (() => void | Promise<void>)[] = []; // run in reverse on the way out
  const stopHost = async () => {
    for (const step of undo.reverse()) await step();
    if (api) {
      await journal.undoAll(
        (change) => undoLinuxChange(api, change),
        (change, error) => log.error({ error: (error as Error).message }, `could not undo ${describeChange(change)}`),
      );
    }
  };
  let tun: Tun | undefined;
  let device: Device | undefined;
  try {
    const config = settings.config;
    tun = await platform.openTun({
      name: settings.name,
      mtu: settings.mtu,
      addresses: config.interface.addresses,
      ...(process.platform === 'linux' ? { queues: settings.tunQueues, offload: settings.offload } : {}),
    });
    // --udp-bind native (the default) is the native Linux bind where it runs, else node:dgram.
    const openUdp = (port: number) => openBind({ port, backend: settings.udpBind });
    let bind = await openUdp(settings.listenPort);
    let routes: InstalledRoutes | undefined;
    device = new Device({
      tun,
      bind,
      privateKey: config.interface.privateKey,
      allowPeerToPeer: settings.role === 'headless' || settings.allowPeerToPeer,
      // A client finds a restarted or moved gateway after 5 s of unanswered data, not 15 s.
      ...(settings.role === 'headless' ? { timers: { unansweredDataTimeout: CLIENT_UNANSWERED_DATA_MS } } : {}),
      // `wg set <name> listen-port N`: the source-port rule that keeps the encrypted UDP out of the
      // tunnel covers N before the socket moves there, and leaves the old port once it is closed.
      rebind: async (port, adopt) => {
        routes?.useUdpPorts([bind.port, port]);
        try {
          const next = await openUdp(port);
          await adopt(next);
          bind = next;
        } finally {
          routes?.useUdpPorts([bind.port]);
        }
      },
    });
    addPeers(device, config);
    const plan = planRoutes(config);
    if (api) {
      const name = tun.name;
      const slot = plan.table === 'own' && plan.routes.length > 0 ? chooseSlot(tablesInUse(settings.name)) : 0;
      const installed = installRoutes(api, name, plan, device.listenPort, slot, journal, log);
      routes = installed;
      undo.push(installed.remove, () => {
        for (const address of config.interface.addresses)
          ignoring(['EADDRNOTAVAIL', 'ENODEV'], () => api.removeAddress(name, address));
      });
      if (settings.forward) enableForwarding(journal);
      if (settings.masquerade) addMasquerade(name, settings.masquerade, journal);
      applyDns(name, config.interface.dns, journal, log);
    } else if (plan.routes.length > 0 || settings.forward || settings.masquerade) {
      throw new StartupError(
        `routes, forwarding and masquerade are implemented for Linux only (platform ${process.platform})`,
      );
    }
    device.start();
    const running = device;
    const uapi = settings.uapi ? await listenUapi(tun.name, running.uapiHandler) : undefined;
    const openedTun = tun;
    const metrics = settings.metricsListen
      ? await MetricsServer.listen(settings.metricsListen.host, settings.metricsListen.port, (lag) =>
          renderMetrics(running, openedTun, lag),
        )
      : undefined;
    const watcher = watchHandshakes(running, openedTun, log);
    // The signal handlers go in before "up" is logged: whoever waits for that line (a test, the
    // demo, a supervisor) may send SIGTERM at once, and it must find them.
    const done = waitForSignal(log, async () => {
      clearInterval(watcher);
      await uapi?.close();
      await metrics?.close();
      await stopHost();
      await running.close();
    });
    log.info(
      {
        interface: tun.name,
        listenPort: running.listenPort,
        peers: config.peers.length,
        queues: settings.tunQueues,
        // Which UDP backend and which AEAD run: a user of the npm package can see that the native
        // fast paths (the benchmarks' figures) are the ones in use, or that a fallback is.
        udpBind: bind.backend,
        ...(bind.backend !== settings.udpBind ? { udpBindFallback: nativeBindUnavailable() } : {}),
        aead: defaultAead().name,
        offload: (tun as { offload?: unknown }).offload,
        uapi: uapi?.path,
        metrics: metrics ? `http://${metrics.address}/metrics` : undefined,
      },
      `${settings.role} up`,
    );
    return { done };
  } catch (error) {
    await stopHost().catch(() => {});
    if (device) await device.close();
    else await tun?.close();
    throw error;
  }
}

/** The UAPI socket, or a one-line StartupError saying what to do when it cannot be made. */
async function listenUapi(name: string, handler: UapiHandler): Promise<UapiServer> {
  try {
    return await UapiServer.listen({ name, handler });
  } catch (error) {
    throw uapiStartupError(error, DEFAULT_UAPI_DIR, name);
  }
}

/** Resolves 0 after SIGINT/SIGTERM and a clean stop; exits the process if the stop overruns. */
function waitForSignal(log: Logger, stop: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      const deadline = setTimeout(() => {
        log.error(`did not stop within ${SHUTDOWN_DEADLINE_MS} ms; exiting anyway`);
        process.exit(1);
      }, SHUTDOWN_DEADLINE_MS);
      deadline.unref();
      stop()
        .then(() => {
          clearTimeout(deadline);
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          log.info('stopped');
          resolve(0);
        })
        .catch((error) => {
          log.error({ error: (error as Error).message }, 'error while stopping');
          resolve(1);
        });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
