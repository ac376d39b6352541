// The daemon's structured logger (pino): JSON lines, or pretty text for a terminal. Keys are never
// logged: nothing logs them on purpose, and any field named like one is censored anyway. The
// WireGuard Device's own notices and loop errors come here too (deviceLog), not to console.warn.

import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from './settings.js';

export type { Logger };

const SECRET_PATHS = ['privateKey', 'presharedKey', '*.privateKey', '*.presharedKey', 'config.interface.privateKey'];

export function createLogger(options: {
  level: LogLevel;
  format: 'json' | 'pretty';
  name: string;
  destination?: NodeJS.WritableStream;
}): Logger {
  const base = { level: options.level, name: options.name, redact: { paths: SECRET_PATHS, censor: '(redacted)' } };
  if (options.format === 'pretty') {
    return pino(
      base,
      pretty({ destination: options.destination ?? 1, sync: true, colorize: false, ignore: 'pid,hostname' }),
    );
  }
  return pino(base, options.destination ?? pino.destination({ dest: 1, sync: true }));
}

/** The error fields of a log line: message and, for an OS error, its code; never the stack's values. */
export function errorFields(error: unknown): { error?: string; code?: string } {
  if (error === undefined) return {};
  if (!(error instanceof Error)) return { error: String(error) };
  const code = (error as { errno?: unknown; code?: unknown }).errno ?? (error as { code?: unknown }).code;
  return typeof code === 'string' ? { error: error.message, code } : { error: error.message };
}

/** The Device's `log` option: its notices and unexpected loop errors as warn lines of `log`. */
export function deviceLog(log: Pick<Logger, 'warn'>): (message: string, error?: unknown) => void {
  return (message, error) => log.warn({ component: 'device', ...errorFields(error) }, message);
}
