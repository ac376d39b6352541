// What a prebuild must be to load on its target, checked on this Linux machine without that
// target: the right CPU; the N-API entry point exported; for glibc no symbol version newer than
// GLIBC_2.28 (objdump -T) and no libstdc++ needed (Zig links its libc++ in); for musl only musl's
// libc.so; for macOS only libSystem, minimum macOS 11, and nothing but N-API and Node's OpenSSL left
// to dynamic lookup (a Linux-only call would otherwise link fine and fail on the Mac at load time);
// for Windows only system DLLs and node.exe. Used by scripts/test/prebuilds.test.ts and the release.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readMachO } from './macho.mjs';

/** Newest glibc the glibc prebuilds may ask for (DESIGN.md: Debian 10, RHEL/Rocky 8). */
export const GLIBC_MAX = '2.28';

/** What an addon may leave for the node binary to provide: N-API, libuv, and Node's OpenSSL. */
const NODE_PROVIDED = /^_?(napi_|node_api_|uv_|EVP_|OpenSSL_|OPENSSL_|CRYPTO_)/;

const ELF_MACHINE = { x64: 0x3e, arm64: 0xb7 };
const GLIBC_LIBRARIES = new Set([
  'libc.so.6',
  'libpthread.so.0',
  'libdl.so.2',
  'libm.so.6',
  'librt.so.1',
  'ld-linux-x86-64.so.2',
  'ld-linux-aarch64.so.1',
]);
const WINDOWS_DLLS = new Set(['node.exe', 'kernel32.dll', 'msvcrt.dll', 'iphlpapi.dll', 'ws2_32.dll', 'advapi32.dll']);

const versionKey = (v) =>
  v
    .split('.')
    .map((n) => n.padStart(4, '0'))
    .join('.');

/**
 * @param {string} file a .node file
 * @param {import('./targets.mjs').Target} target
 * @returns {{ problems: string[], facts: string[] }} problems empty when it fits the target
 */
export function checkPrebuild(file, target) {
  if (target.platform === 'linux') return checkElf(file, target);
  if (target.platform === 'darwin') return checkMachO(file, target);
  return checkPe(file, target);
}

function checkElf(file, target) {
  const problems = [];
  const facts = [];
  const bytes = readFileSync(file);
  if (bytes.readUInt32BE(0) !== 0x7f454c46) return { problems: ['not an ELF file'], facts };
  if (bytes.readUInt16LE(18) !== ELF_MACHINE[target.arch])
    problems.push(`ELF machine ${bytes.readUInt16LE(18)} is not ${target.arch}`);
  const dynamic = execFileSync('objdump', ['-T', file], { encoding: 'utf8' });
  const versions = [...new Set([...dynamic.matchAll(/\bGLIBC_([0-9.]+)/g)].map((m) => m[1]))].sort((a, b) =>
    versionKey(a) < versionKey(b) ? -1 : 1,
  );
  const needed = [...execFileSync('readelf', ['-d', file], { encoding: 'utf8' }).matchAll(/\(NEEDED\).*\[(.+)\]/g)].map(
    (m) => m[1],
  );
  if (!/\sDF \.text\s.*\snapi_register_module_v1$/m.test(dynamic))
    problems.push('napi_register_module_v1 is not exported');
  if (target.libc === 'glibc') {
    const newest = versions.at(-1) ?? 'none';
    facts.push(`objdump -T: newest GLIBC_${newest}`);
    const tooNew = versions.filter((v) => versionKey(v) > versionKey(GLIBC_MAX));
    if (tooNew.length > 0) problems.push(`needs GLIBC_${tooNew.join(', GLIBC_')} (newer than ${GLIBC_MAX})`);
    const foreign = needed.filter((n) => !GLIBC_LIBRARIES.has(n));
    if (foreign.length > 0) problems.push(`needs ${foreign.join(', ')} beyond glibc`);
  } else {
    if (versions.length > 0) problems.push(`a musl build asks for glibc versions ${versions.join(', ')}`);
    if (needed.some((n) => n !== 'libc.so')) problems.push(`needs ${needed.join(', ')}, not only musl's libc.so`);
  }
  facts.push(`needs ${needed.join(', ')}`);
  return { problems, facts };
}

function checkMachO(file, target) {
  const problems = [];
  const macho = readMachO(readFileSync(file));
  if (macho.cpu !== target.arch) problems.push(`Mach-O CPU ${macho.cpu} is not ${target.arch}`);
  if (!macho.exports.includes('_napi_register_module_v1')) problems.push('_napi_register_module_v1 is not exported');
  if (macho.minos === undefined || versionKey(macho.minos) > versionKey('11.0.0')) {
    problems.push(`minimum macOS ${macho.minos ?? 'unknown'} is newer than 11.0`);
  }
  const dylibs = macho.dylibs.filter((d) => d !== '/usr/lib/libSystem.B.dylib');
  if (dylibs.length > 0) problems.push(`loads ${dylibs.join(', ')} beyond libSystem`);
  const lookedUp = macho.imports.filter((i) => i.from === 'dynamic lookup');
  const strays = lookedUp.filter((i) => !NODE_PROVIDED.test(i.name)).map((i) => i.name);
  if (strays.length > 0) problems.push(`left to dynamic lookup but not provided by node: ${strays.join(', ')}`);
  const elsewhere = macho.imports.filter((i) => i.from !== 'dynamic lookup' && i.from !== '/usr/lib/libSystem.B.dylib');
  if (elsewhere.length > 0)
    problems.push(`imports from unknown places: ${elsewhere.map((i) => `${i.name} (${i.from})`).join(', ')}`);
  const facts = [
    `${macho.cpu}, macOS ≥ ${macho.minos}, loads ${macho.dylibs.join(', ')}`,
    `${lookedUp.length} symbols from node (dynamic lookup), ${macho.imports.length - lookedUp.length} from libSystem`,
  ];
  return { problems, facts };
}

function checkPe(file, target) {
  const problems = [];
  const header = execFileSync('x86_64-w64-mingw32-objdump', ['-f', file], { encoding: 'utf8' });
  if (target.arch === 'x64' && !/file format pei-x86-64/.test(header)) problems.push('not a PE32+ x86-64 file');
  const details = execFileSync('x86_64-w64-mingw32-objdump', ['-p', file], { encoding: 'utf8' });
  const dlls = [...details.matchAll(/DLL Name: (\S+)/g)].map((m) => m[1]);
  const foreign = dlls.filter((d) => !WINDOWS_DLLS.has(d.toLowerCase()));
  if (foreign.length > 0) problems.push(`needs ${foreign.join(', ')}, which Windows does not have (link statically)`);
  if (!/\]\s+napi_register_module_v1$/m.test(details)) problems.push('napi_register_module_v1 is not exported');
  return { problems, facts: [`imports ${dlls.join(', ')}`] };
}
