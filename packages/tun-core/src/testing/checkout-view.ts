// Privileged tests that drop privileges (setpriv --reuid=65534) run files from the checkout as
// user nobody. A root user who clones into a 0700 directory (their home) leaves nobody unable to
// reach those files ("Cannot find module …/dist/main.js", "Cannot find package 'tsx'"). So the
// unprivileged child runs in a private mount namespace of its own (unshare --mount) in which the
// checkout is bind-mounted below a directory everyone can traverse, and it is given paths in that
// view. Nothing is copied (node_modules included), and the host's mounts are never touched: the
// bind exists only in the child's namespace and ends with it.

import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

export interface CheckoutView {
  /** The checkout's root (the directory holding pnpm-workspace.yaml). */
  readonly root: string;
  /** Where `path`, a path inside the checkout, appears to the wrapped command. */
  path(path: string): string;
  /**
   * The command line that runs `command args` with the view mounted, in `cwd` (a checkout path,
   * default the root, as the view has it), plus any other bind mounts given as [source, target]
   * pairs (mounted in the same private namespace).
   */
  wrap(command: string, args: readonly string[], options?: WrapOptions): [string, string[]];
}

export interface WrapOptions {
  cwd?: string;
  binds?: readonly [string, string][];
}

/** The root of the checkout that holds `from` (a file or directory inside it). */
export function checkoutRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    if (dirname(dir) === dir)
      throw new Error(`${from} is not inside a tunkit checkout (no pnpm-workspace.yaml above it)`);
    dir = dirname(dir);
  }
  return dir;
}

let mountPoint: string | undefined;

/** An empty directory, readable by everyone, that the views mount the checkout on; removed at exit. */
function viewMountPoint(): string {
  if (mountPoint !== undefined) return mountPoint;
  const parent = join(tmpdir(), `tunkit-view-${process.pid}`);
  mkdirSync(join(parent, 'checkout'), { recursive: true, mode: 0o755 });
  process.once('exit', () => rmSync(parent, { recursive: true, force: true }));
  mountPoint = join(parent, 'checkout');
  return mountPoint;
}

/** The view of the checkout holding `from`, for commands run as an unprivileged user. */
export function checkoutView(from: string): CheckoutView {
  const root = checkoutRoot(from);
  return {
    root,
    path(path) {
      const inside = relative(root, path);
      if (inside.startsWith('..')) throw new Error(`${path} is not inside the checkout ${root}`);
      return join(viewMountPoint(), inside);
    },
    wrap(command, args, { cwd = root, binds = [] } = {}) {
      const pairs = [[root, viewMountPoint()] as const, ...binds].flat();
      // sh's positional parameters: the directory to start in, the [source, target] pairs, '--',
      // then the command line to exec. The cd runs before any privilege is dropped.
      const script =
        'dir=$1; shift; while [ "$1" != -- ]; do mount --bind "$1" "$2" || exit 125; shift 2; done; shift; cd "$dir" && exec "$@"';
      const start = this.path(cwd);
      return [
        'unshare',
        ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', start, ...pairs, '--', command, ...args],
      ];
    },
  };
}
