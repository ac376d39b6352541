// A reader for the few parts of a 64-bit Mach-O file the darwin prebuild check needs: the CPU, the
// minimum macOS version, the dylibs it loads, the symbols it exports, and for each symbol it
// imports, where dyld will look for it (a dylib, or "dynamic lookup" in whatever loaded it: the
// node binary). No Apple tool runs on Linux, hence this reader (mach-o/loader.h, mach-o/nlist.h).

const MH_MAGIC_64 = 0xfeedfacf;
const CPU = { 16777223: 'x64', 16777228: 'arm64' };
const LC_SYMTAB = 0x2;
const LC_BUILD_VERSION = 0x32;
// Every command that adds a dylib to the ordinal list, in load order.
const DYLIB_COMMANDS = new Set([0xc, 0x80000018, 0x8000001f, 0x20, 0x80000023]);
const N_STAB = 0xe0;
const N_PEXT = 0x10;
const N_TYPE = 0x0e;
const N_EXT = 0x01;
const N_UNDF = 0x0;
const N_SECT = 0xe;
const DYNAMIC_LOOKUP_ORDINAL = 0xfe;

/**
 * @param {Buffer} file
 * @returns {{ cpu: string, minos: string | undefined, dylibs: string[], exports: string[],
 *   imports: { name: string, from: string }[] }}
 */
export function readMachO(file) {
  if (file.readUInt32LE(0) !== MH_MAGIC_64) throw new Error('not a 64-bit little-endian Mach-O file');
  const cpu = CPU[file.readUInt32LE(4)] ?? `cputype 0x${file.readUInt32LE(4).toString(16)}`;
  const commandCount = file.readUInt32LE(16);
  const dylibs = [];
  let symtab;
  let minos;
  let at = 32;
  for (let i = 0; i < commandCount; i++) {
    const cmd = file.readUInt32LE(at);
    const size = file.readUInt32LE(at + 4);
    if (cmd === LC_SYMTAB) {
      symtab = {
        symoff: file.readUInt32LE(at + 8),
        nsyms: file.readUInt32LE(at + 12),
        stroff: file.readUInt32LE(at + 16),
      };
    } else if (cmd === LC_BUILD_VERSION) {
      const v = file.readUInt32LE(at + 12);
      minos = `${v >>> 16}.${(v >>> 8) & 0xff}.${v & 0xff}`;
    } else if (DYLIB_COMMANDS.has(cmd)) {
      const nameOffset = file.readUInt32LE(at + 8);
      const end = file.indexOf(0, at + nameOffset);
      dylibs.push(file.toString('utf8', at + nameOffset, end));
    }
    at += size;
  }
  const exports = [];
  const imports = [];
  if (symtab) {
    for (let i = 0; i < symtab.nsyms; i++) {
      const entry = symtab.symoff + i * 16;
      const strx = file.readUInt32LE(entry);
      const type = file.readUInt8(entry + 4);
      const desc = file.readUInt16LE(entry + 6);
      if ((type & N_STAB) !== 0 || (type & N_EXT) === 0) continue;
      const name = file.toString('utf8', symtab.stroff + strx, file.indexOf(0, symtab.stroff + strx));
      if ((type & N_TYPE) === N_SECT && (type & N_PEXT) === 0) exports.push(name);
      else if ((type & N_TYPE) === N_UNDF) {
        const ordinal = (desc >> 8) & 0xff;
        const from =
          ordinal === DYNAMIC_LOOKUP_ORDINAL
            ? 'dynamic lookup'
            : ordinal >= 1 && ordinal <= dylibs.length
              ? dylibs[ordinal - 1]
              : `ordinal ${ordinal}`;
        imports.push({ name, from });
      }
    }
  }
  return { cpu, minos, dylibs, exports, imports };
}
