// The `install` script of every tunkit package that has a native addon (npm, pnpm and yarn run it
// after unpacking the package; `--ignore-scripts` skips it, and then the prebuilds alone count).
// Usage from a package.json: "install": "node -e \"require('@tunkit/tun-core/native/install')()\""
//
// A prebuild that loads here is used as it is: nothing is compiled. Otherwise (another platform,
// or a libc the prebuild does not fit) the addon is built from the sources the package ships, with
// node-gyp (npm carries it) and node-addon-api (a dependency of the package). In a checkout (src/
// beside package.json) it does nothing: the package's own build script builds the addon there.
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

/** @param {{ optional?: boolean }} [options] optional: a failed build still installs (a JS fallback exists) */
module.exports = function install({ optional = false } = {}) {
  const root = process.cwd();
  if (existsSync(path.join(root, 'src'))) return;
  const nativeDir = path.join(root, 'native');
  const name = require(path.join(root, 'package.json')).name;
  try {
    require(require.resolve('node-gyp-build', { paths: [root] }))(nativeDir);
    return;
  } catch (error) {
    console.log(
      `${name}: no prebuilt addon loads here (${String(error.message).split('\n')[0]}); building it from source`,
    );
  }
  const nodeGyp = process.env.npm_config_node_gyp;
  const args = nodeGyp ? [nodeGyp, 'rebuild', `--directory=${nativeDir}`] : null;
  const result = args
    ? spawnSync(process.execPath, args, { stdio: 'inherit' })
    : spawnSync('node-gyp', ['rebuild', `--directory=${nativeDir}`], {
        stdio: 'inherit',
        shell: process.platform === 'win32',
      });
  if (result.status === 0) return;
  const why = `${name}: the source build failed (node-gyp needs python3, make and a C++17 compiler)`;
  if (optional) {
    console.log(`${why}; the package still works, without its native fast path`);
    return;
  }
  console.error(`${why}: install them and run 'npm rebuild ${name}'`);
  process.exit(1);
};
