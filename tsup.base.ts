// The one tsup configuration every package inherits: ESM (.js) and CommonJS (.cjs) side by side,
// each with its own declarations (.d.ts, .d.cts), for Node 20, source maps, and the node: prefix
// kept ('node:test' has no unprefixed form). package.json `exports` points `import` at the first
// and `require` at the second (scripts/package-exports.test.ts checks every entry of every package).
// `shims` gives the CommonJS build an import.meta.url: the native loaders find native/ from it.
import { defineConfig, type Options } from 'tsup';

export function packageConfig(
  entry: Record<string, string>,
  { formats = ['esm', 'cjs'] }: { formats?: Options['format'] } = {},
): ReturnType<typeof defineConfig> {
  const options: Options = {
    entry,
    format: formats,
    dts: true,
    sourcemap: true,
    clean: true,
    shims: true,
    target: 'node20',
    removeNodeProtocol: false,
  };
  return defineConfig(options);
}
