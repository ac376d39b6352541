// @tunkit/tun-core/testing: the shared fakes and the contract suite other packages test with.
export * from './checkout-view.js';
export * from './contract-suite.js';
export * from './harness.js';
export * from './kernel-side.js';
export * from './memory-harness.js';
export * from './netns.js';
export * from './packets.js';
export * from './privileges.js';
