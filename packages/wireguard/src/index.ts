// @tunkit/wireguard: the WireGuard protocol (sans-IO), its configuration formats and cryptokey
// routing, the UDP Bind layer, and (later) the Device that joins a Tun, a Bind and the peers.
export * from './bind/index.js';
export * from './config/index.js';
export * from './device/index.js';
export * from './protocol/index.js';
export * from './uapi/index.js';
