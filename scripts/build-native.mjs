#!/usr/bin/env node
// Builds the native addon of the package in the current directory with node-gyp, against the
// Node.js headers installed on this machine when they are there (Debian's nodejs ships them in
// /usr/include/node), so no header download is needed. binding.gyp lives in native/, not at the
// package root: a root binding.gyp makes npm and pnpm run an implicit `node-gyp rebuild` on install.
// Usage: node build-native.mjs [dir]   (dir: the folder holding binding.gyp, default native; a
// package's test-only addon lives in a folder of its own, e.g. native/test-addon)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(join(process.cwd(), 'package.json'));
const nodeGyp = join(dirname(require.resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');
const args = [nodeGyp, 'rebuild', '--jobs=max', `--directory=${process.argv[2] ?? 'native'}`];
const nodedir = process.env.npm_config_nodedir ?? (existsSync('/usr/include/node/node_api.h') ? '/usr' : undefined);
if (nodedir) args.push(`--nodedir=${nodedir}`);
const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(result.status ?? 1);
