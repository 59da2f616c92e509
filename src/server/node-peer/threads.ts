/**
 * Keeps WebRTC's helper threads from preempting the JavaScript thread that feeds every call's audio (Linux), for the
 * processes that run many WebRTC legs: the conference mixer (`batchHelperThreads`, after joins) and the gateway
 * (`schedulingPrefix` + `restoreMainThread`: started non-real-time as a whole).
 *
 * The mixer's case:
 *
 * Each `RTCAudioSource.onData` call posts the frame to that participant's Opus encoder thread (`AudioEncoder`) and
 * wakes it with a pipe write. WebRTC runs its media threads `SCHED_FIFO` (real time) whenever the process may (root,
 * CAP_SYS_NICE), so the woken encoder takes the CPU from the JS thread at once, at every frame: one involuntary
 * context switch per participant per 10 ms tick. Once the encoder is done, the JS thread is back in the fair queue
 * behind every other runnable task on the machine. Measured (bench/conference.ts, 20 participants, shared 2-core
 * machine): the JS thread used 11 % of a core but was runnable-and-waiting 84 % of the time, and the 10 ms clock ran
 * at 60 ticks/s.
 *
 * `SCHED_BATCH` keeps a thread's fair share of CPU but never lets its wake-up preempt the running task. With the
 * helper threads in it, the JS thread hands all of a tick's frames over in one go and the encoders run right after
 * (on the other core, or when the JS thread sleeps). Lowering a thread's policy to `SCHED_BATCH` needs no privilege.
 * Node has no API for scheduling policies, so this runs util-linux's `chrt` (one shell per check, for the threads
 * not yet changed); without `chrt` (or on other systems) it does nothing. The audio device thread is kept as it is
 * (`KEEP_THREADS`).
 */
import { execFile, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

const SCHED_BATCH = 3;
const SCHED_IDLE = 5;

export interface ThreadPolicyResult {
  /** Threads moved to SCHED_BATCH by this call. */
  changed: number;
  /** Threads left as they were because `chrt` failed for them. */
  failed: number;
}

let unavailable = false;
/** Threads not to touch again (ended, refused, or kept on purpose). */
const skipTids = new Set<number>();

/**
 * Kept as WebRTC made it: the audio device thread is the receive side's clock. It wakes on its own timer, decodes
 * every leg and hands the frames to JS once per 10 ms; it never waits for the JS thread, and in real time its
 * frames stay regular (measured: fewer input underruns in the mixer).
 */
export const KEEP_THREADS = /^TestAudioDevice$/;

/** The scheduling policy field of a `/proc/<pid>/task/<tid>/stat` line (0 OTHER, 1 FIFO, 2 RR, 3 BATCH, 5 IDLE). */
function policyOfStat(stat: string): number | undefined {
  // Fields after the parenthesised name: index 0 is field 3 (state), so field 41 (policy) is index 38.
  const policy = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]);
  return Number.isInteger(policy) ? policy : undefined;
}

/** A thread's scheduling policy (0 OTHER, 1 FIFO, 2 RR, 3 BATCH, 5 IDLE) from /proc, or undefined. */
export async function threadPolicy(tid: number, pid = process.pid): Promise<number | undefined> {
  try {
    return policyOfStat(await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** How many of this process's threads run real-time (SCHED_FIFO or SCHED_RR) now (Linux; else 0). */
export function realtimeThreadCount(): number {
  if (process.platform !== 'linux') return 0;
  let n = 0;
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const policy = policyOfStat(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8'));
        if (policy === 1 || policy === 2) n++;
      } catch {
        // the thread ended
      }
    }
  } catch {
    return 0;
  }
  return n;
}

async function threadName(tid: number): Promise<string> {
  try {
    return (await readFile(`/proc/self/task/${tid}/comm`, 'utf8')).trim();
  } catch {
    return '';
  }
}

/** One shell for all threads (one fork of this big process instead of one per thread); prints the tids that failed. */
function chrtBatch(tids: number[]): Promise<{ failed: number[]; missing: boolean }> {
  return new Promise((resolve) => {
    const script = 'command -v chrt >/dev/null || { echo missing; exit 0; }; for t in "$@"; do chrt -b -p 0 "$t" 2>/dev/null || echo "$t"; done';
    execFile('/bin/sh', ['-c', script, 'sh', ...tids.map(String)], { timeout: 10_000 }, (err, stdout) => {
      const lines = String(stdout).split('\n').filter(Boolean);
      if (err || lines.includes('missing')) resolve({ failed: tids, missing: !err });
      else resolve({ failed: lines.map(Number), missing: false });
    });
  });
}

/**
 * Moves every thread of this process except the JS main thread and `keep` (default `KEEP_THREADS`) to SCHED_BATCH;
 * threads already in SCHED_BATCH or SCHED_IDLE are left alone. Cheap when there is nothing to do: one directory
 * listing and one small read per thread. Call it after threads were created (a participant joined).
 */
export async function batchHelperThreads(log?: (message: string) => void, keep: RegExp | null = KEEP_THREADS): Promise<ThreadPolicyResult> {
  const result: ThreadPolicyResult = { changed: 0, failed: 0 };
  if (process.platform !== 'linux' || unavailable) return result;
  let tids: number[];
  try {
    tids = (await readdir('/proc/self/task')).map(Number).filter((t) => Number.isInteger(t) && t !== process.pid);
  } catch {
    return result;
  }
  if (skipTids.size > 10_000) skipTids.clear();
  const todo: number[] = [];
  for (const tid of tids) {
    if (skipTids.has(tid)) continue;
    const policy = await threadPolicy(tid);
    if (policy === undefined || policy === SCHED_BATCH || policy === SCHED_IDLE) continue;
    if (keep?.test(await threadName(tid))) {
      skipTids.add(tid);
      continue;
    }
    todo.push(tid);
  }
  if (todo.length === 0) return result;
  const { failed, missing } = await chrtBatch(todo);
  if (missing) {
    unavailable = true;
    log?.('chrt (util-linux) not found: media threads keep their scheduling policy');
    return result;
  }
  // A failed thread may have ended meanwhile, or policy changes are not allowed here: do not retry it.
  for (const tid of failed) skipTids.add(tid);
  result.failed = failed.length;
  result.changed = todo.length - failed.length;
  return result;
}

/**
 * Runs `batchHelperThreads` shortly after a leg's media came up (its WebRTC threads exist by then), one check at a
 * time: requests while a check is pending or running get one more check after it. `changed` counts the threads moved.
 */
export class HelperThreadBatcher {
  changed = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly log?: (message: string) => void, private readonly delayMs = 500) {}

  request(): void {
    if (this.stopped) return;
    if (this.timer) {
      this.again = true;
      return;
    }
    this.timer = setTimeout(() => {
      this.again = false;
      const done = () => {
        this.timer = undefined;
        if (this.again) this.request();
      };
      batchHelperThreads(this.log).then((r) => {
        this.changed += r.changed;
        done();
      }, done);
    }, this.delayMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}

// Starting a whole child process non-real-time (the gateway; measured in bench/gateway.ts): sturdier than changing
// threads after they exist, which at 50 calls was itself starved by 250 real-time threads.

let setprivAvailable: boolean | undefined;
let chrtAvailable: boolean | undefined;
/**
 * How to start a Node child that runs many WebRTC calls (Linux, util-linux), so that WebRTC's helper threads never
 * preempt the JavaScript thread that feeds every call's audio:
 * - as root (CAP_SYS_NICE) WebRTC makes five threads per call real-time (SCHED_FIFO: encoder, pacers, RTP
 *   controllers). At 50 calls 250 of them preempted the JS thread, which then got a fifth of a core while always
 *   runnable (bench/gateway.ts). `setpriv` drops CAP_SYS_NICE from the child; with RLIMIT_RTPRIO 0 (the default)
 *   WebRTC's priority request then fails and its threads keep the policy they inherit;
 * - `chrt -b 0` starts the child in SCHED_BATCH, which every thread it creates inherits: a fair share of CPU, but
 *   a woken helper thread (an encoder handed a frame) never preempts the running JS thread. The child sets its JS
 *   thread back to SCHED_OTHER once it is up (`restoreMainThread`), so timers still wake it promptly.
 * Returns the command prefix (empty when neither tool is there, or with `GATEWAY_HELPER_THREADS=keep`).
 */
export function schedulingPrefix(env: NodeJS.ProcessEnv = process.env): string[] {
  if (process.platform !== 'linux' || env.GATEWAY_HELPER_THREADS === 'keep') return [];
  let capEff = 0n;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    capEff = m ? BigInt(`0x${m[1]}`) : 0n;
  } catch {
    return [];
  }
  const CAP_SYS_NICE = 23n;
  const has = (cmd: string) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
  setprivAvailable ??= has('setpriv');
  chrtAvailable ??= has('chrt');
  const prefix: string[] = [];
  if (((capEff >> CAP_SYS_NICE) & 1n) !== 0n && setprivAvailable) prefix.push('setpriv', '--inh-caps=-sys_nice', '--bounding-set=-sys_nice');
  if (chrtAvailable) prefix.push('chrt', '-b', '0');
  return prefix;
}

/**
 * In a child started with `schedulingPrefix()`: once the WebRTC factory's threads exist (they spawn the per-call
 * threads, which inherit SCHED_BATCH from them), put the JS thread back to SCHED_OTHER.
 */
export function restoreMainThread(): void {
  if (process.platform !== 'linux' || process.env.GATEWAY_HELPER_THREADS === 'keep') return;
  execFile('chrt', ['-o', '-p', '0', String(process.pid)], () => undefined);
}
