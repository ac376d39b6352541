// The seven targets every native addon is prebuilt for, as data: what node-gyp-build calls them
// (the prebuilds/ folder and the libc tag of the file name), what binding.gyp's OS variable is for
// them, and which compiler builds them on this Linux machine. Zig's glibc targets carry the glibc
// version they link against (2.28: Debian 10, RHEL/Rocky 8), so the .node never asks for newer
// symbols; musl and macOS come from the same Zig; Windows from Debian's mingw-w64.

/** @typedef {{ id: string, platform: string, arch: string, libc?: 'glibc' | 'musl', gypOS: string, compiler: 'zig' | 'mingw', zigTarget?: string }} Target */

/** @type {Target[]} */
export const TARGETS = [
  {
    id: 'linux-x64-glibc',
    platform: 'linux',
    arch: 'x64',
    libc: 'glibc',
    gypOS: 'linux',
    compiler: 'zig',
    zigTarget: 'x86_64-linux-gnu.2.28',
  },
  {
    id: 'linux-arm64-glibc',
    platform: 'linux',
    arch: 'arm64',
    libc: 'glibc',
    gypOS: 'linux',
    compiler: 'zig',
    zigTarget: 'aarch64-linux-gnu.2.28',
  },
  {
    id: 'linux-x64-musl',
    platform: 'linux',
    arch: 'x64',
    libc: 'musl',
    gypOS: 'linux',
    compiler: 'zig',
    zigTarget: 'x86_64-linux-musl',
  },
  {
    id: 'linux-arm64-musl',
    platform: 'linux',
    arch: 'arm64',
    libc: 'musl',
    gypOS: 'linux',
    compiler: 'zig',
    zigTarget: 'aarch64-linux-musl',
  },
  // 11.0: binding.gyp's MACOSX_DEPLOYMENT_TARGET, the oldest macOS on Apple silicon.
  { id: 'darwin-x64', platform: 'darwin', arch: 'x64', gypOS: 'mac', compiler: 'zig', zigTarget: 'x86_64-macos.11.0' },
  {
    id: 'darwin-arm64',
    platform: 'darwin',
    arch: 'arm64',
    gypOS: 'mac',
    compiler: 'zig',
    zigTarget: 'aarch64-macos.11.0',
  },
  { id: 'win32-x64', platform: 'win32', arch: 'x64', gypOS: 'win', compiler: 'mingw' },
];

/** The target of an id, or an error listing the ids there are. */
export function targetById(id) {
  const target = TARGETS.find((t) => t.id === id);
  if (target === undefined)
    throw new Error(`unknown prebuild target '${id}': one of ${TARGETS.map((t) => t.id).join(', ')}`);
  return target;
}

/**
 * Where node-gyp-build looks for the prebuild of `addon` for `target`, relative to native/:
 * prebuilds/<platform>-<arch>/<addon>.napi[.glibc|.musl].node (one N-API build serves every
 * Node.js version; the libc is a tag of the file name, not a folder).
 */
export function prebuildPath(target, addon) {
  const tags = ['napi', ...(target.libc ? [target.libc] : [])].join('.');
  return `prebuilds/${target.platform}-${target.arch}/${addon}.${tags}.node`;
}
