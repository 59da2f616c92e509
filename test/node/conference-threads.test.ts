// The mixing process's helper threads are moved to SCHED_BATCH (Linux, util-linux `chrt`), the JS thread is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { batchHelperThreads, threadPolicy } from '../../src/server/node-peer/threads.js';

const hasChrt = (() => {
  try {
    execFileSync('chrt', ['--version'], { stdio: 'ignore' });
    return process.platform === 'linux';
  } catch {
    return false;
  }
})();

test('helper threads move to SCHED_BATCH, the main thread keeps its policy', { skip: !hasChrt && 'needs Linux and chrt' }, async () => {
  // A worker is a native thread of this process, like WebRTC's encoder threads.
  const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
  await new Promise((r) => worker.once('online', r));
  try {
    const mainBefore = await threadPolicy(process.pid);
    const first = await batchHelperThreads();
    assert.ok(first.changed >= 1, `changed ${first.changed} threads`);
    await batchHelperThreads(); // threads the first pass itself started (the fs pool) are caught now
    const again = await batchHelperThreads();
    assert.equal(again.changed, 0, 'nothing left to change');
    assert.equal(await threadPolicy(process.pid), mainBefore);
    for (const tid of readdirSync('/proc/self/task').map(Number)) {
      if (tid === process.pid) continue;
      const p = await threadPolicy(tid);
      if (p !== undefined) assert.ok(p === 3 || p === 5, `thread ${tid} policy ${p}`);
    }
  } finally {
    await worker.terminate();
  }
});
