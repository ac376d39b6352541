#!/usr/bin/env node
// tunkit-gateway: @tunkit/daemon's main() with the gateway role. The platform Tun package is
// imported from here, so it resolves among this app's (optional) dependencies.
import { main } from '@tunkit/daemon';

process.exitCode = await main({ role: 'gateway', argv: process.argv.slice(2), importer: (name) => import(name) });
