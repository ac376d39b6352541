// Protocol core: keys, crypto, messages, handshake, cookies, the handshake queue and rate limiter,
// transport, replay window, routing, timers, engine.
export * from './aead-batch.js';
export * from './allowed-ips.js';
export * from './constants.js';
export * from './cookie.js';
export * from './crypto.js';
export * from './drops.js';
export * from './engine.js';
export * from './handshake.js';
export * from './handshake-queue.js';
export * from './keys.js';
export * from './load-gauge.js';
export * from './messages.js';
export * from './peer.js';
export * from './ratelimiter.js';
export * from './replay.js';
export * from './seal.js';
export * from './tai64n.js';
