// UDP binds: the batch-shaped Bind contract, its native Linux and node:dgram implementations
// (openBind picks one), and the in-memory fake.
export * from './bind.js';
export * from './linux-udp-bind.js';
export * from './memory-bind.js';
export {
  type BindBackend,
  nativeBindUnavailable,
  type OpenBindOptions,
  type OpenedBind,
  openBind,
} from './open-bind.js';
export * from './udp-bind.js';
