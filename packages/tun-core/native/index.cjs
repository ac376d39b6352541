// Where tunkit's header-only C++ lives, for platform addons' binding.gyp:
//   "include_dirs": ["<!(node -p \"require('@tunkit/tun-core/native').include\")"]
// (the same shape as node-addon-api's `require('node-addon-api').include_dir`).
const path = require('node:path');

const include = path.join(__dirname, 'include');
module.exports = { include, include_dir: include };
