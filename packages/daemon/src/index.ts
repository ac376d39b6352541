// @tunkit/daemon: what tunkit-gateway and tunkit-headless share. The apps call main().
export * from './cli.js';
export * from './config-file.js';
export * from './daemon.js';
export { nftTableName } from './host/linux-forwarding.js';
export { DEFAULT_ROUTE_TABLE, planRoutes, RULE_PRIORITY } from './host/linux-routing.js';
export * from './journal.js';
export * from './metrics.js';
export * from './print-config.js';
export * from './settings.js';
export * from './startup-error.js';
export * from './watcher.js';
