// wg-quick's PreUp/PostUp/PreDown/PostDown: shell commands from the config file, each line run by
// bash with %i replaced by the interface name, in file order, and only with --allow-hooks (they
// run with the daemon's privileges; without the flag the start is refused in one line). A hook
// that exits non-zero, or still runs after HOOK_TIMEOUT_MS, fails: during the start that stops it
// (and the start is undone); on the way out it is logged and the rest goes on.
//
// Their order is wg-quick's (cmd_up, cmd_down): PreUp before the TUN exists, PostUp once
// everything is up; PreDown first on the way out, PostDown last, after every host change is
// undone. On the ResourceStack, PostUp's release is PreDown and PreUp's is PostDown, each armed
// only once its up hooks ran: a start that fails after PreUp runs PostDown (so a PreUp/PostUp
// change paired with a PostDown undo is undone), never PreDown.
//
// Logged commands and output pass through redactKeys: a hook may carry a key (`wg set %i
// private-key <(echo …)`), and no log line may.

import { spawn } from 'node:child_process';
import { redactKeys as redactKeyText, type WgQuickConfig } from '@tunkit/wireguard';
import type { Logger } from './logger.js';
import { StartupError } from './startup-error.js';

export type HookKind = 'PreUp' | 'PostUp' | 'PreDown' | 'PostDown';

/** A hook line still running after this long is killed and counts as failed. */
export const HOOK_TIMEOUT_MS = 10_000;
/** Output kept per hook line for the log (its end). */
const OUTPUT_KEPT = 2048;

/** The hook lines of a config, by kind, as written (`%i` not substituted). */
export function hooksOf(config: WgQuickConfig): Record<HookKind, readonly string[]> {
  const i = config.interface;
  return { PreUp: i.preUp, PostUp: i.postUp, PreDown: i.preDown, PostDown: i.postDown };
}

/** How long the hooks run on the way out may take, at most (added to the stop's deadline). */
export function downHooksBudgetMs(config: WgQuickConfig): number {
  const hooks = hooksOf(config);
  return (hooks.PreDown.length + hooks.PostDown.length) * HOOK_TIMEOUT_MS;
}

/** Refuses a config that has hooks unless they are allowed: one line saying which and how. */
export function checkHooksAllowed(config: WgQuickConfig, allowHooks: boolean, path: string): void {
  if (allowHooks) return;
  const present = Object.entries(hooksOf(config)).filter(([, lines]) => lines.length > 0);
  if (present.length === 0) return;
  const which = present.map(([kind, lines]) => (lines.length > 1 ? `${kind} (${lines.length} lines)` : kind));
  throw new StartupError(
    `${path} has ${which.join(', ')}: shell commands tunkit runs only with --allow-hooks (they run with the daemon's privileges, as wg-quick runs them); pass it, or remove them`,
  );
}

/** The warning for SaveConfig = true (ignored: tunkit never rewrites its config file), or undefined. */
export function saveConfigWarning(config: WgQuickConfig): string | undefined {
  if (config.interface.saveConfig !== true) return undefined;
  return 'SaveConfig = true is ignored: tunkit never rewrites its config file, so what `wg set` changes is lost at the next start; put it in the file and reload (SIGHUP)';
}

/** `text` with everything that looks like a key (base64 or hex) replaced: secret-safe.ts's rule. */
export function redactKeys(text: string): string {
  return redactKeyText(text, '(key redacted)');
}

/**
 * Runs the `kind` hook lines one after the other (each `bash -c`, `%i` → `name`); throws
 * StartupError naming the first that fails. `signal` (a cancelled start) kills the one running.
 */
export async function runHooks(
  kind: HookKind,
  lines: readonly string[],
  name: string,
  log: Pick<Logger, 'info'>,
  signal?: AbortSignal,
  timeoutMs = HOOK_TIMEOUT_MS,
): Promise<void> {
  for (const line of lines) {
    const command = line.replaceAll('%i', name);
    const shown = redactKeys(command);
    log.info({ hook: kind, command: shown }, `running ${kind} hook`);
    const started = performance.now();
    const { code, output, timedOut } = await runShell(command, timeoutMs, signal);
    const ms = Math.round(performance.now() - started);
    const tail = redactKeys(output.trim());
    if (code !== 0) {
      const why = timedOut ? `still running after ${timeoutMs / 1000} s` : `exit ${code}`;
      throw new StartupError(`${kind} hook failed (${why}): ${shown}${tail ? ` — ${tail.replace(/\s+/g, ' ')}` : ''}`);
    }
    log.info({ hook: kind, command: shown, ms, ...(tail ? { output: tail } : {}) }, `${kind} hook done`);
  }
}

/** Runs `command` with bash in its own process group; resolves its exit code and output (end kept). */
function runShell(
  command: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ code: number | string; output: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    let output = '';
    let timedOut = false;
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEPT);
    };
    // Its own process group: a timeout or a cancelled start ends the whole command line, not bash alone.
    const child = spawn('bash', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const kill = (sig: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    const stop = () => {
      kill('SIGTERM');
      setTimeout(() => kill('SIGKILL'), 1000).unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, timeoutMs);
    signal?.addEventListener('abort', stop, { once: true });
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
      resolve({ code: error.code === 'ENOENT' ? 'bash not found' : String(error.code), output, timedOut });
    });
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
      resolve({ code: code ?? `killed by ${sig}`, output, timedOut });
    });
  });
}
