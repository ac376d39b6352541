// Child node processes for privileged tests: a script (ES module, through tsx, run in the package
// directory so it can import ./src/index.ts) that talks to the test in lines on stdin/stdout.
// Children inherit the test's network namespace (it entered it before spawning them).
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Child {
  process: ChildProcessWithoutNullStreams;
  /** The next stdout line (rejects after `timeoutMs`, or when the child exits first). */
  line(timeoutMs?: number): Promise<string>;
  /** Writes one line to the child's stdin. */
  send(text: string): void;
  /** Resolves when the child has exited, with how long that took from this call. */
  exit(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** What the child wrote to stderr so far (for assertion messages). */
  stderr(): string;
}

export function spawnScript(
  script: string,
  options: { command?: string; args?: string[]; nodeOptions?: string[] } = {},
): Child {
  const nodeArgs = [...(options.nodeOptions ?? []), '--import', 'tsx', '--input-type=module', '-e', script];
  const child = options.command
    ? spawn(options.command, [...(options.args ?? []), process.execPath, ...nodeArgs], { cwd: packageDir })
    : spawn(process.execPath, nodeArgs, { cwd: packageDir });
  const lines: string[] = [];
  const waiters: ((line: string | undefined) => void)[] = [];
  let ended = false;
  let errors = '';
  child.stderr.on('data', (d) => {
    errors += String(d);
  });
  const reader = createInterface({ input: child.stdout });
  reader.on('line', (line) => {
    const waiter = waiters.shift();
    if (waiter) waiter(line);
    else lines.push(line);
  });
  reader.on('close', () => {
    ended = true;
    for (const waiter of waiters.splice(0)) waiter(undefined);
  });
  let exitStatus: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      exitStatus = { code, signal };
      resolve(exitStatus);
    }),
  );
  return {
    process: child,
    line(timeoutMs = 10_000) {
      const queued = lines.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      if (ended) return Promise.reject(new Error(`the child ended without another line; stderr: ${errors}`));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no line from the child in ${timeoutMs} ms; stderr: ${errors}`)),
          timeoutMs,
        );
        waiters.push((line) => {
          clearTimeout(timer);
          if (line === undefined) reject(new Error(`the child ended without another line; stderr: ${errors}`));
          else resolve(line);
        });
      });
    },
    send(text) {
      child.stdin.write(`${text}\n`);
    },
    async exit(timeoutMs = 10_000) {
      const start = Date.now();
      if (exitStatus) return { ...exitStatus, ms: 0 };
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`the child did not exit within ${timeoutMs} ms; stderr: ${errors}`));
        }, timeoutMs);
      });
      try {
        const status = await Promise.race([exited, timeout]);
        return { ...status, ms: Date.now() - start };
      } finally {
        clearTimeout(timer);
      }
    },
    stderr: () => errors,
  };
}
