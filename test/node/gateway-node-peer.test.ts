// NodePeer: two Node peers on a real calling server speak the call-control protocol and exchange real audio.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toneShare } from '../../src/server/media/analysis.js';
import { startCallingServer } from '../../src/server/calling-server.js';
import { NodePeer, type PeerSession } from '../../src/server/node-peer/index.js';

const loopbackOnly = (a: string) => a === '127.0.0.1';

function tone(freq: number, rate: number, n: number, offset: number, amp = 8000): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * (offset + i)) / rate));
  return out;
}


test('a Node peer calls another: invite, ringing, answer, audio both ways, DTMF, hang-up', { timeout: 30_000 }, async () => {
  const server = await startCallingServer({ port: 0, serveDemo: false });
  const a = await NodePeer.start({ id: 'node-a', server: server.url, token: () => server.mintToken('node-a'), candidateFilter: loopbackOnly });
  const b = await NodePeer.start({ id: 'node-b', server: server.url, token: () => server.mintToken('node-b'), candidateFilter: loopbackOnly });
  const timers: ReturnType<typeof setInterval>[] = [];
  try {
    const incoming = new Promise<PeerSession>((resolve) => b.once('invite', resolve));
    const out = a.call('node-b', { callId: 'call-1', from: 'node-a', to: 'node-b', callType: 'sip', video: false, headers: { 'x-test': '1' } });
    const inc = await incoming;
    assert.equal(inc.invite.callType, 'sip');
    assert.deepEqual(inc.invite.headers, { 'x-test': '1' });
    assert.equal(inc.remotePeerId, 'node-a');

    const ringing = new Promise<void>((r) => out.once('ringing', () => r()));
    inc.ringing();
    await ringing;

    // Each side sends its own tone in 10 ms frames.
    let ta = 0, tb = 0;
    timers.push(setInterval(() => { out.sendAudio(tone(440, 48000, 480, ta), 48000); ta += 480; }, 10));
    timers.push(setInterval(() => { inc.sendAudio(tone(1000, 8000, 80, tb), 8000); tb += 80; }, 10));
    const gotAtB: Int16Array[] = [];
    const gotAtA: Int16Array[] = [];
    const rates = new Set<number>();
    inc.onAudio((f) => { rates.add(f.sampleRate); if (f.sampleRate === 48000) gotAtB.push(f.samples.slice()); });
    out.onAudio((f) => { if (f.sampleRate === 48000) gotAtA.push(f.samples.slice()); });

    const bothMedia = Promise.all([new Promise<void>((r) => out.once('media', () => r())), new Promise<void>((r) => inc.once('media', () => r()))]);
    const answered = new Promise<void>((r) => out.once('answer', () => r()));
    inc.answer();
    await answered;
    await bothMedia;
    await new Promise((r) => setTimeout(r, 1500));

    const join = (frames: Int16Array[]) => {
      const all = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
      let o = 0;
      for (const f of frames) { all.set(f, o); o += f.length; }
      return all.subarray(Math.floor(all.length / 3)); // skip the codec's start-up
    };
    assert.ok(gotAtB.length > 20, `B received ${gotAtB.length} frames`);
    assert.ok(gotAtA.length > 20, `A received ${gotAtA.length} frames`);
    assert.ok(toneShare(join(gotAtB), 48000, 440) > 0.5, 'B hears 440 Hz');
    assert.ok(toneShare(join(gotAtA), 48000, 1000) > 0.5, 'A hears 1000 Hz');

    const dtmf = new Promise<string>((r) => inc.once('dtmf', r));
    out.send({ type: 'dtmf', digits: '12#' });
    assert.equal(await dtmf, '12#');

    // A screen-share notice (browsers send it to each other) is accepted and ignored: the session carries on.
    const afterShare = new Promise<string>((r) => inc.once('dtmf', r));
    out.send({ type: 'screenshare', sharing: true });
    out.send({ type: 'dtmf', digits: '3' });
    assert.equal(await afterShare, '3');
    assert.equal(inc.ended, undefined);

    const ended = new Promise((r) => inc.once('end', r));
    out.hangup('hungUp');
    assert.deepEqual(await ended, { cause: 'hungUp', by: 'remote' });
    assert.equal(out.ended?.by, 'local');
  } finally {
    for (const t of timers) clearInterval(t);
    await a.stop();
    await b.stop();
    await server.close();
  }
});

test('a session is told why the browser ended: cancel before answer, and deny reaches the caller', { timeout: 20_000 }, async () => {
  const server = await startCallingServer({ port: 0, serveDemo: false });
  const a = await NodePeer.start({ id: 'node-c', server: server.url, token: () => server.mintToken('node-c'), candidateFilter: loopbackOnly });
  const b = await NodePeer.start({ id: 'node-d', server: server.url, token: () => server.mintToken('node-d'), candidateFilter: loopbackOnly });
  try {
    let incoming = new Promise<PeerSession>((resolve) => b.once('invite', resolve));
    const out1 = a.call('node-d', { callId: 'call-2', from: 'node-c', to: 'node-d', callType: 'phone', video: false, headers: {} });
    let inc = await incoming;
    const canceled = new Promise((r) => inc.once('end', r));
    out1.hangup();
    assert.deepEqual(await canceled, { cause: 'canceled', by: 'remote' });

    incoming = new Promise<PeerSession>((resolve) => b.once('invite', resolve));
    const out2 = a.call('node-d', { callId: 'call-3', from: 'node-c', to: 'node-d', callType: 'phone', video: false, headers: {} });
    inc = await incoming;
    const denied = new Promise((r) => out2.once('end', r));
    inc.hangup('denied', { domain: 'sip', code: 'busy', message: 'Busy Here', sipStatus: 486, sipReason: 'Busy Here' });
    assert.deepEqual(await denied, {
      cause: 'denied', by: 'remote', error: { domain: 'sip', code: 'busy', message: 'Busy Here', sipStatus: 486, sipReason: 'Busy Here' },
    });
  } finally {
    await a.stop();
    await b.stop();
    await server.close();
  }
});
