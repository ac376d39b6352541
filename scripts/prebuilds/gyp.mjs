// Reads a package's native/binding.gyp the way gyp does for one OS: conditions evaluated with that
// OS (gyp conditions are Python expressions, so python3 evaluates them, as gyp itself would),
// list keys appended, `key!` lists removed, `<!(command)` expanded by running it in native/. So
// the prebuild builder follows whatever sources and OS conditions binding.gyp says, and a source
// moved between packages needs no change here.
import { execFileSync } from 'node:child_process';

const READER = `
import ast, json, sys
gyp = ast.literal_eval(open(sys.argv[1]).read())
variables = {'OS': sys.argv[2]}

def merge(into, node):
    for key, value in node.items():
        if key in ('conditions', 'target_conditions'):
            continue
        if isinstance(value, list):
            into.setdefault(key, []).extend(value)
        elif isinstance(value, dict):
            merge(into.setdefault(key, {}), value)
        else:
            into[key] = value

def resolve(node):
    out = {}
    merge(out, node)
    for condition in node.get('conditions', []):
        # [expr, then, expr2, then2, ..., else?]
        chosen = None
        for i in range(0, len(condition) - 1, 2):
            if eval(condition[i], {'__builtins__': {}}, variables):
                chosen = condition[i + 1]
                break
        else:
            if len(condition) % 2 == 1:
                chosen = condition[-1]
        if chosen:
            merge(out, resolve(chosen))
    for key in [k for k in out if k.endswith('!')]:
        out[key[:-1]] = [v for v in out.get(key[:-1], []) if v not in out[key]]
        del out[key]
    return out

defaults = gyp.get('target_defaults', {})
targets = []
for target in gyp.get('targets', []):
    merged = {}
    merge(merged, defaults)
    merge(merged, target)
    merged['conditions'] = defaults.get('conditions', []) + target.get('conditions', [])
    targets.append(resolve(merged))
print(json.dumps(targets))
`;

/**
 * @typedef {{ target_name: string, type?: string, sources: string[], include_dirs: string[],
 *   defines: string[], cflags_cc: string[], libraries: string[] }} GypTarget
 */

/** The targets of `nativeDir`/binding.gyp as gyp sees them for `gypOS` ('linux', 'mac', 'win'). */
export function readBindingGyp(nativeDir, gypOS) {
  const raw = JSON.parse(
    execFileSync('python3', ['-c', READER, `${nativeDir}/binding.gyp`, gypOS], { encoding: 'utf8' }),
  );
  return raw.map((t) => ({
    target_name: t.target_name,
    type: t.type,
    sources: t.sources ?? [],
    include_dirs: (t.include_dirs ?? []).map((dir) => expandCommand(dir, nativeDir)),
    defines: t.defines ?? [],
    cflags_cc: t.cflags_cc ?? [],
    libraries: t.libraries ?? [],
  }));
}

/** gyp's `<!(command)`: the command's output, run in the gyp file's directory. */
function expandCommand(value, cwd) {
  const match = /^<!\((.*)\)$/.exec(value);
  if (!match) return value;
  return execFileSync('sh', ['-c', match[1]], { cwd, encoding: 'utf8' }).trim();
}
