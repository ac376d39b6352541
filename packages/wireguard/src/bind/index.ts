// UDP binds: the batch-shaped Bind contract, its node:dgram implementation and the in-memory fake.
export * from './bind.js';
export * from './memory-bind.js';
export * from './udp-bind.js';
