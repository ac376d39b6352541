import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadFailureMessage } from './native.js';

describe('tun-linux addon load failures', () => {
  it('says which platforms have a prebuilt addon and how to build one elsewhere', () => {
    const message = loadFailureMessage(
      new Error(
        'No native build was found for platform=linux arch=arm64 runtime=node abi=115 uv=1 libc=glibc node=20.11.0',
      ),
      'linux',
      'arm64',
      'v20.11.0',
    );
    assert.match(message, /no native addon for linux-arm64 \(Node v20\.11\.0\)/);
    assert.match(message, /prebuilt addon for linux-x64 \(glibc\) only/);
    assert.match(message, /pnpm --filter @tunkit\/tun-linux build/);
  });

  it('passes on what the OS refused when the addon is there but does not load', () => {
    const message = loadFailureMessage(
      new Error("/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found (required by node.node)\nmore"),
      'linux',
      'x64',
      'v20.11.0',
    );
    assert.match(message, /GLIBC_2\.34' not found/);
    assert.doesNotMatch(message, /more/);
    assert.match(message, /glibc 2\.34 or newer/);
  });

  it('points other operating systems to their own package', () => {
    assert.match(loadFailureMessage(new Error('x'), 'darwin', 'arm64', 'v20.11.0'), /Linux only, this is darwin/);
  });
});
