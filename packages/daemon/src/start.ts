// start(): the daemon's resources, acquired in this order, each held on the ResourceStack with the
// step that releases it the moment it exists:
//   1. the cleanup journal: every host change below is recorded in it before it is made, and its
//      release undoes them all (policy rules, unreachable routes, forwarding sysctls, the nft
//      table, DNS), newest first, after everything else is released;
//   2. the metrics and health listener (--metrics-listen): first, so a probe gets a 503 saying
//      why while the daemon starts and all the while it stops, not a refused connection;
//   3. the TUN device (with its addresses);
//   4. the UDP socket;
//   5. the WireGuard Device, with its peers;
//   6. the routes through the TUN (and its policy rules, forwarding, masquerade, DNS: journalled);
//   7. the Device's loops; 8. the UAPI socket; 9. the handshake watcher.
// wg-quick's hooks go around them (hooks.ts): PreUp before the TUN, PostUp at the end; on the way
// out PreDown first and PostDown last.
// A failure at any step leaves the stack holding exactly what was done: the caller unwinds it.

import { type LoadPlatformTunOptions, loadPlatformTun, type Tun } from '@tunkit/tun-core';
import {
  DEFAULT_UAPI_DIR,
  Device,
  defaultAead,
  nativeBindUnavailable,
  type OpenedBind,
  openBind,
  type UapiHandler,
  UapiServer,
  type WgQuickConfig,
} from '@tunkit/wireguard';
import { renderBuildInfo } from './build-info.js';
import { hostApi, undoLeftovers, undoOwnChanges } from './cleanup.js';
import { EndpointResolver } from './endpoints.js';
import type { Health } from './health.js';
import { type HookKind, hooksOf, runHooks } from './hooks.js';
import { applyDns } from './host/dns.js';
import { ignoring, type LinuxHostApi } from './host/linux-api.js';
import { addMasquerade, enableForwarding } from './host/linux-forwarding.js';
import { chooseSlot, type InstalledRoutes, installRoutes, planRoutes } from './host/linux-routing.js';
import { mtuFromRoutes } from './host/route-mtu.js';
import { Journal, tablesInUse } from './journal.js';
import { describe } from './lifecycle.js';
import { deviceLog, type Logger } from './logger.js';
import { type HttpAnswer, MetricsServer, renderMetrics } from './metrics.js';
import type { ResourceStack } from './resource-stack.js';
import type { DaemonSettings } from './settings.js';
import { StartupError, uapiStartupError } from './startup-error.js';
import { writeTrace } from './trace-file.js';
import { watchHandshakes } from './watcher.js';

/** Without MTU = (or --mtu): wg-quick's (route MTU - 80) on Linux, its default 1420 elsewhere. */
async function mtuOfRoutes(config: WgQuickConfig, log: Logger): Promise<number> {
  if (process.platform !== 'linux') return 1420;
  const addresses = config.peers.flatMap((peer) => (peer.endpoint ? [peer.endpoint.host] : []));
  const derived = await mtuFromRoutes(addresses, (message) => log.warn(message));
  log.info({ mtu: derived.mtu, from: derived.from }, 'MTU from the routes (MTU = not set)');
  return derived.mtu;
}

/** See TimerSettings.unansweredDataTimeout: REKEY_TIMEOUT for the client role. */
const CLIENT_UNANSWERED_DATA_MS = 5_000;

export interface StartContext {
  log: Logger;
  /** What /healthz answers; start() marks it up once everything is. */
  health: Health;
  /** The app's version, for tunkit_build_info. */
  version: string;
  /** Where each resource is held as soon as it is acquired. */
  stack: ResourceStack;
  /** Imports the platform package from the app's own dependencies (see loadPlatformTun). */
  importer?: LoadPlatformTunOptions['importer'];
  /** Called once if the Device ends by itself (its Tun ended under it), during the start or after. */
  onDeviceEnded(error: Error): void;
}

/** What a started daemon runs. */
export interface RunningDaemon {
  /** The settings it runs with: endpoint host names resolved, the MTU derived when none was set. */
  settings: DaemonSettings & { mtu: number };
  tun: Tun;
  device: Device;
  /** Resolves endpoint host names again: a reload passes the new file through resolveConfig. */
  endpoints: EndpointResolver;
  /** The routes through the TUN (Linux), which a reload moves (InstalledRoutes.update). */
  routes: InstalledRoutes | undefined;
  /** The platform's host API (Linux), e.g. for systemd's notifications. */
  api: LinuxHostApi | undefined;
}

export async function start(settings: DaemonSettings, context: StartContext): Promise<RunningDaemon> {
  const { log, stack } = context;
  const platform = await loadPlatformTun({ importer: context.importer });
  // Before any resource: endpoint host names (retried while the network comes up), then the MTU
  // from the routes to the endpoints when the config sets none (both as wg-quick does).
  const endpoints = new EndpointResolver({ log, signal: stack.cancel });
  const config = await endpoints.resolveConfig(settings.config, { retries: settings.endpointResolutionRetries });
  stack.throwIfCancelled('the MTU');
  const mtu = settings.mtu ?? (await mtuOfRoutes(config, log));
  const api = hostApi(platform);
  const hooks = hooksOf(config);
  const runHooksOf = (kind: HookKind) => runHooks(kind, hooks[kind], settings.name, log, stack.cancel);

  // PostDown is PreUp's release and runs last on the way out, after the journal's undo (so its
  // entry comes first), once PreUp ran.
  let preUpRan = false;
  stack.hold('PostDown hooks', () => (preUpRan ? runHooks('PostDown', hooks.PostDown, settings.name, log) : undefined));

  const journal = await stack.acquire(
    'host changes (cleanup journal)',
    () => openJournal(settings.name, api, log),
    (opened) =>
      undoOwnChanges(opened, api, (change, error) => log.error({ error: describe(error) }, `could not undo ${change}`)),
  );

  let running: { device: Device; tun: Tun } | undefined;
  const listen = settings.metricsListen;
  const http = listen
    ? await stack.acquire(
        'metrics and health listener',
        async () => {
          const buildInfo = renderBuildInfo({
            version: context.version,
            aead: defaultAead().name,
            // What openBind will pick: the same rule (and the "up" line says what it did pick).
            udpBind: settings.udpBind === 'native' && nativeBindUnavailable() === undefined ? 'native' : 'dgram',
          });
          const stopWatching = context.health.watchEventLoop();
          try {
            const server = await MetricsServer.listen(
              listen.host,
              listen.port,
              // Until the daemon is up, and once it stops, only what does not read the device.
              (lag) =>
                running && context.health.isUp
                  ? renderMetrics(running.device, running.tun, lag).then((text) => text + buildInfo)
                  : buildInfo,
              { '/healthz': () => healthAnswer(context.health) },
            );
            return { server, stopWatching };
          } catch (error) {
            stopWatching();
            throw error;
          }
        },
        async ({ server, stopWatching }) => {
          stopWatching();
          await server.close();
        },
      )
    : undefined;

  // PreUp: before the TUN exists, as wg-quick runs it before add_if.
  stack.throwIfCancelled('the PreUp hooks');
  await runHooksOf('PreUp');
  preUpRan = true;

  const tun = await stack.acquire(
    `TUN device ${settings.name}`,
    () =>
      platform.openTun({
        name: settings.name,
        mtu,
        addresses: config.interface.addresses,
        ...(process.platform === 'linux' ? { queues: settings.tunQueues, offload: settings.offload } : {}),
      }),
    (opened) => opened.close(),
  );

  // --udp-bind native (the default) is the native Linux bind where it runs, else node:dgram.
  // Sized for the MTU: a sealed MTU-sized packet is MTU + 32 bytes (the Device refuses a Bind that cannot carry it).
  const openUdp = (port: number) =>
    openBind({ port, backend: settings.udpBind, mtu, receiveThreads: settings.udpThreads });
  // The Device may move to another socket (`wg set … listen-port`); the release closes the current one.
  let bind: OpenedBind = await stack.acquire(
    'UDP socket',
    () => openUdp(settings.listenPort),
    () => bind.close(),
  );
  let routes: InstalledRoutes | undefined;

  const device = await stack.acquire(
    'WireGuard device',
    () =>
      new Device({
        tun,
        bind,
        privateKey: config.interface.privateKey,
        log: deviceLog(log),
        fwmark: config.interface.fwmark,
        allowPeerToPeer: settings.role === 'headless' || settings.allowPeerToPeer,
        dataPlane: settings.dataPlane,
        trace: settings.trace !== undefined,
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
      }),
    async (opened) => {
      await opened.close();
      if (settings.trace !== undefined) writeTrace(settings.trace, tun.name, opened, log);
    },
  );
  device.ended.then((why) => why && context.onDeviceEnded(why));
  addPeers(device, config);

  const plan = planRoutes(config);
  if (api) {
    const name = tun.name;
    const slot = plan.table === 'own' && plan.routes.length > 0 ? chooseSlot(tablesInUse(settings.name)) : 0;
    routes = await stack.acquire(
      `routes and addresses of ${name}`,
      () => installRoutes(api, name, plan, device.listenPort, slot, journal, log),
      (installed) => {
        // ENODEV: the device is gone already (it ended by itself), and its routes and addresses with it.
        installed.remove();
        for (const address of config.interface.addresses)
          ignoring(['EADDRNOTAVAIL', 'ENODEV'], () => api.removeAddress(name, address));
      },
    );
    // Each records itself in the journal before it changes anything: undone with the journal.
    stack.throwIfCancelled('forwarding');
    if (settings.forward) enableForwarding(journal);
    if (settings.masquerade) addMasquerade(name, settings.masquerade, journal);
    applyDns(name, config.interface.dns, journal, log);
  } else if (plan.routes.length > 0 || settings.forward || settings.masquerade) {
    throw new StartupError(
      `routes, forwarding and masquerade are implemented for Linux only (platform ${process.platform})`,
    );
  }

  stack.throwIfCancelled('the Device loops');
  device.start();
  const uapi = settings.uapi
    ? await stack.acquire(
        'UAPI socket',
        () => listenUapi(tun.name, device.uapiHandler),
        (server) => server.close(),
      )
    : undefined;
  await stack.acquire(
    'handshake watcher',
    () =>
      watchHandshakes(device, tun, log, {
        // A peer whose handshakes keep failing may have moved: look its host name up again.
        onFailing: (peer) => void endpoints.reresolve(device, peer),
      }),
    (timer) => clearInterval(timer),
  );
  // PostUp once everything is up; its release, PreDown, is the first step on the way out.
  await stack.acquire(
    'PreDown hooks',
    () => runHooksOf('PostUp'),
    () => runHooks('PreDown', hooks.PreDown, settings.name, log),
  );

  log.info(
    {
      interface: tun.name,
      listenPort: device.listenPort,
      peers: config.peers.length,
      queues: settings.tunQueues,
      // Which UDP backend and which AEAD run: a user of the npm package can see that the native
      // fast paths (the benchmarks' figures) are the ones in use, or that a fallback is.
      udpBind: bind.backend,
      ...(bind.backend !== settings.udpBind ? { udpBindFallback: nativeBindUnavailable() } : {}),
      aead: defaultAead().name,
      // Where transport data is sealed and opened: native threads, or this JS thread (and why).
      dataPlane: device.dataPlane.running,
      ...(device.dataPlane.unavailable ? { dataPlaneFallback: device.dataPlane.unavailable } : {}),
      offload: (tun as { offload?: unknown }).offload,
      uapi: uapi?.path,
      metrics: http ? `http://${http.server.address}/metrics` : undefined,
      health: http ? `http://${http.server.address}/healthz` : undefined,
    },
    `${settings.role} up`,
  );
  running = { device, tun };
  context.health.up(device);
  return { settings: { ...settings, config, mtu }, tun, device, endpoints, routes, api };
}

/**
 * The journal of interface `name`, after undoing what a previous run left in it. Refuses to
 * start while the process that wrote it still runs: two daemons must not share an interface.
 */
async function openJournal(name: string, api: ReturnType<typeof hostApi>, log: Logger): Promise<Journal> {
  const journal = Journal.open(name);
  if (journal.ownerAlive()) {
    throw new StartupError(
      `tunkit process ${journal.ownerPid} already runs interface ${name}: stop it first, or pick another --name`,
    );
  }
  if (journal.pending.length > 0) {
    log.warn({ journal: journal.path }, 'a previous run did not exit cleanly: undoing what it left');
    if (api) log.warn(await undoLeftovers(journal, name, api, (line) => log.warn(line)));
  }
  return journal;
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

/** GET /healthz: the Health check as JSON, 200 or 503. */
function healthAnswer(health: Health): HttpAnswer {
  const { status, report } = health.check();
  return { status, contentType: 'application/json', body: `${JSON.stringify(report)}\n` };
}

/** The UAPI socket, or a one-line StartupError saying what to do when it cannot be made. */
async function listenUapi(name: string, handler: UapiHandler): Promise<UapiServer> {
  try {
    return await UapiServer.listen({ name, handler });
  } catch (error) {
    throw uapiStartupError(error, DEFAULT_UAPI_DIR, name);
  }
}
