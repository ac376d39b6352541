#!/usr/bin/env node
// Installs the workspace with the pinned pnpm, fetched from the npm registry by npx,
// so a fresh machine with only Node.js and npm can run the README's commands.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { packageManager } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const args = ['--yes', packageManager, 'install', '--frozen-lockfile', '--reporter=append-only'];
execFileSync('npx', args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
