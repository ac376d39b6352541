// @tunkit/wireguard/testing: harnesses for tests and benchmarks, kept out of the runtime entry.
export * from './engine-pair.js';
export * from './fuzz.js';
export * from './secret-corpus.js';
export * from './uapi-client.js';
