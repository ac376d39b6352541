// The Device: a Tun, a Bind and the peers, joined.
export * from './device.js';
export * from './turn-budget.js';
