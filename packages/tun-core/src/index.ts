// @tunkit/tun-core: the Tun contract and the pieces every platform package shares.
export * from './batch-channel.js';
export * from './cidr.js';
export * from './errors.js';
export * from './fd-tun.js';
export * from './ip.js';
export * from './loader.js';
export * from './memory-tun.js';
export * from './native-addon.js';
export * from './native-tun.js';
export * from './packet-batch.js';
export * from './packet-builder.js';
export * from './packet-queue.js';
export * from './tun.js';
export * from './tun-helpers.js';
