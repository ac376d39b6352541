// tunkit_build_info: one gauge of value 1 whose labels say what runs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderBuildInfo } from './build-info.js';

describe('renderBuildInfo', () => {
  it('labels version, Node.js, platform, AEAD and UDP backend, escaped as Prometheus wants', () => {
    const text = renderBuildInfo({ version: '1.2.3', aead: 'native (OpenSSL "3")', udpBind: 'native' });
    assert.equal(
      text,
      [
        '# HELP tunkit_build_info What runs: version, Node.js, platform, AEAD and UDP backends (value 1).',
        '# TYPE tunkit_build_info gauge',
        `tunkit_build_info{version="1.2.3",node="${process.version}",platform="${process.platform}-${process.arch}",aead="native (OpenSSL _3_)",udp_bind="native"} 1`,
        '',
      ].join('\n'),
    );
  });
});
