// The UAPI socket server (transport only; the text protocol is in ../config/uapi.ts).
export * from './uapi-server.js';
