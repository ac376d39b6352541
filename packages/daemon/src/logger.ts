// The daemon's structured logger (pino): JSON lines, or pretty text for a terminal. Keys are never
// logged: nothing logs them on purpose, and any field named like one is censored anyway.

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
