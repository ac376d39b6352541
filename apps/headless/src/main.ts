#!/usr/bin/env node
// tunkit-headless: @tunkit/daemon's main() with the headless role. The platform Tun package is
// imported from here, so it resolves among this app's (optional) dependencies.
import { createRequire } from 'node:module';
import { main } from '@tunkit/daemon';

// package.json sits one level above dist/ (built) and src/ alike.
const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

process.exitCode = await main({
  role: 'headless',
  version,
  argv: process.argv.slice(2),
  importer: (name) => import(name),
});
