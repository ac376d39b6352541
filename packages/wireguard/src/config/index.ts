// Configuration and control: the UAPI text protocol (and wg-quick files, see wg-quick.ts).
export * from './secret-safe.js';
export * from './uapi.js';
export * from './wg-quick.js';
