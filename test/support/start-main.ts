// Runs `src/server/main.ts` (what `npm start` runs after building the bundle) as a child process with the given
// environment, and watches its output.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface MainProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout+stderr match of `re`; rejects when the process exits first or after `ms`. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** `prefix` runs it through another command, e.g. `['ip', 'netns', 'exec', 'ns1']`. */
export function startMain(env: Record<string, string>, prefix: string[] = []): MainProcess {
  const command = [...prefix, process.execPath, '--import', 'tsx', 'src/server/main.ts'];
  const child = spawn(command[0]!, command.slice(1), {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', GATEWAY: 'off', CONFERENCE: 'off', CALLING_DB: ':memory:', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); for (const w of waiters) w(); });
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); for (const w of waiters) w(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => { gone = true; for (const w of waiters) w(); });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(re, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`no ${re} within ${ms} ms:\n${out}\n${err}`)); }, ms);
        const check = () => {
          const m = (out + err).match(re);
          if (m) { clearTimeout(timer); waiters.delete(check); resolve(m); } else if (gone) {
            clearTimeout(timer); waiters.delete(check); reject(new Error(`exited before ${re}:\n${out}\n${err}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
