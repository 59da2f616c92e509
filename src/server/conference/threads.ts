/**
 * Keeps the mixing process's helper threads from preempting its JavaScript thread (Linux).
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
 * Node has no API for scheduling policies, so this runs util-linux's `chrt` once per new thread; without `chrt`
 * (or on other systems) it does nothing.
 */
import { execFile } from 'node:child_process';
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
const failedTids = new Set<number>();

/** A thread's scheduling policy (0 OTHER, 1 FIFO, 2 RR, 3 BATCH, 5 IDLE) from /proc, or undefined. */
export async function threadPolicy(tid: number, pid = process.pid): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the parenthesised name: index 0 is field 3 (state), so field 41 (policy) is index 38.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const policy = Number(fields[38]);
    return Number.isInteger(policy) ? policy : undefined;
  } catch {
    return undefined;
  }
}

function chrtBatch(tid: number): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('chrt', ['-b', '-p', '0', String(tid)], { timeout: 5000 }, (err) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') unavailable = true;
      resolve(!err);
    });
  });
}

/**
 * Moves every thread of this process except the JS main thread to SCHED_BATCH (threads already in SCHED_BATCH or
 * SCHED_IDLE are left alone). Cheap when there is nothing to do: one directory listing and one small read per thread.
 * Call it after threads were created (a participant joined).
 */
export async function batchHelperThreads(log?: (message: string) => void): Promise<ThreadPolicyResult> {
  const result: ThreadPolicyResult = { changed: 0, failed: 0 };
  if (process.platform !== 'linux' || unavailable) return result;
  let tids: number[];
  try {
    tids = (await readdir('/proc/self/task')).map(Number).filter((t) => Number.isInteger(t) && t !== process.pid);
  } catch {
    return result;
  }
  for (const tid of tids) {
    if (failedTids.has(tid)) continue;
    const policy = await threadPolicy(tid);
    if (policy === undefined || policy === SCHED_BATCH || policy === SCHED_IDLE) continue;
    if (await chrtBatch(tid)) result.changed++;
    else {
      if (unavailable) {
        log?.('chrt (util-linux) not found: media threads keep their scheduling policy');
        return result;
      }
      // The thread may have ended meanwhile, or policy changes are not allowed here: do not retry it.
      failedTids.add(tid);
      result.failed++;
    }
  }
  return result;
}
