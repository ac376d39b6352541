// The Device: a Tun, a Bind and the peers, joined.

export { dataPlaneUnavailable } from './data-plane.js';
export * from './device.js';
export type { TraceEvent, TraceKind } from './trace.js';
export * from './turn-budget.js';
