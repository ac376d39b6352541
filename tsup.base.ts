// The one tsup configuration every package inherits: ESM + .d.ts for Node 20, source maps, and
// the node: prefix kept ('node:test' has no unprefixed form).
import { defineConfig, type Options } from 'tsup';

export function packageConfig(entry: Record<string, string>): ReturnType<typeof defineConfig> {
  const options: Options = {
    entry,
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    removeNodeProtocol: false,
  };
  return defineConfig(options);
}
