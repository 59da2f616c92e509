// The shared mix on a real calling server (127.0.0.1, real WebRTC through @roamhq/wrtc, G.722 legs): talkers get a
// mix-minus of their own, everyone else the one shared mix; a talker who stops and starts again never hears themself.
// Hold (issue #16): a participant who sends `hold` (as the SDK's `call.hold()` does) leaves the mix without leaving the
// room — not heard, hears nothing, `onHold` in `participants` — and resuming puts them back.
import { pacedTone } from '../support/paced-tone.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCallingServer } from '../../src/server/calling-server.js';
import { mintUserToken } from '../../src/server/auth/tokens.js';
import { NodePeer, type PeerSession } from '../../src/server/node-peer/index.js';
import { CONFERENCE_PEER_ID, type WireParticipant } from '../../src/core/protocol.js';
import { toneAmplitude } from '../../src/server/conference/mixer.js';

const loopbackOnly = (a: string) => a === '127.0.0.1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Member {
  id: string;
  peer: NodePeer;
  session: PeerSession;
  freq: number;
  talking: boolean;
  /** Everything received, with the time each frame arrived. */
  frames: Array<{ at: number; samples: Int16Array; rate: number }>;
  /** The latest `participants` list this member got. */
  list: WireParticipant[];
  stop(): void;
}

async function join(url: string, secret: string, id: string, room: string, freq: number, talking: boolean): Promise<Member> {
  const peer = await NodePeer.start({ id, server: url, token: async () => (await mintUserToken(secret, id)).token, candidateFilter: loopbackOnly });
  const session = peer.call(CONFERENCE_PEER_ID, { callId: `${id}-${Date.now()}`, from: id, to: room, callType: 'conference', video: false, headers: {} });
  const m: Member = { id, peer, session, freq, talking, frames: [], list: [], stop: () => undefined };
  session.onAudio((f) => { m.frames.push({ at: performance.now(), samples: f.samples.slice(), rate: f.sampleRate }); });
  session.on('participants', (list) => { m.list = list; });
  m.stop = pacedTone(session, freq, 4000, () => m.talking);
  await new Promise<void>((resolve, reject) => {
    session.once('media', () => resolve());
    session.once('end', (e) => reject(new Error(`${id} could not join: ${JSON.stringify(e)}`)));
  });
  return m;
}

/** Tone amplitude in Hann-windowed `windowMs` slices of what `m` received since `from` (the others' tones, 150 Hz away, stay out of the bin). */
function slices(m: Member, from: number, freq: number, windowMs = 60): number[] {
  const frames = m.frames.filter((f) => f.at >= from);
  const rate = frames.at(-1)?.rate ?? 16_000;
  const all: number[] = [];
  for (const f of frames) if (f.rate === rate) all.push(...f.samples);
  const n = Math.round((rate * windowMs) / 1000);
  const out: number[] = [];
  for (let o = 0; o + n <= all.length; o += n / 2) {
    const w = new Float32Array(n);
    for (let i = 0; i < n; i++) w[i] = all[o + i]! * (1 - Math.cos((2 * Math.PI * i) / (n - 1)));
    out.push(toneAmplitude(w, rate, freq));
  }
  return out;
}

const level = (m: Member, from: number, freq: number) => {
  const s = slices(m, from, freq, 200);
  return s.length ? Math.round(s.reduce((a, b) => a + b, 0) / s.length) : 0;
};

/** The service as `npm start` runs it: its own child process (CONFERENCE_MIXER read there), G.722 legs. */
async function startMixServer(): Promise<Awaited<ReturnType<typeof startCallingServer>>> {
  const previous = process.env.CONFERENCE_MIXER;
  process.env.CONFERENCE_MIXER = 'shared';
  try {
    return await startCallingServer({ port: 0, host: '127.0.0.1', serveDemo: false, conference: { loopbackOnly: true, codec: 'g722', limits: { emptyRoomTimeout: 200 } } });
  } finally {
    if (previous === undefined) delete process.env.CONFERENCE_MIXER;
    else process.env.CONFERENCE_MIXER = previous;
  }
}

test('shared mix: a silent listener hears every talker; each talker hears the others, never itself, also while it stops and starts talking', { timeout: 60_000 }, async () => {
  const server = await startMixServer();
  const members: Member[] = [];
  try {
    const spec: Array<[number, boolean]> = [[400, true], [550, true], [700, true], [850, false], [1000, false]];
    for (const [k, [f, talking]] of spec.entries()) members.push(await join(server.url, server.secret, `mix-p${k}`, 'shared-1', f, talking));
    const [a, b, c, l1, l2] = members as [Member, Member, Member, Member, Member];
    assert.deepEqual(members.map((m) => m.session.audioCodec), members.map(() => 'G722'));
    await sleep(800); // codec start-up
    // Presence vs absence on a shared machine where frames may be late or lost: own tones must be absent in every
    // window; every other talker clearly present, allowing up to three 1.2 s windows for a loaded moment.
    const talkers = [a, b, c];
    for (let attempt = 1; ; attempt++) {
      const t0 = performance.now();
      await sleep(1200);
      const levels = Object.fromEntries(members.map((m) => [m.id, Object.fromEntries(spec.map(([f]) => [f, level(m, t0, f)]))]));
      console.log(`tone amplitudes (sent at 4000, G.722 both ways), window ${attempt}:`, JSON.stringify(levels));
      for (const t of talkers) assert.ok(levels[t.id]![t.freq]! < 150, `${t.id} must not hear itself (${levels[t.id]![t.freq]})`);
      const missing = members.flatMap((m) => talkers.filter((t) => t !== m && levels[m.id]![t.freq]! <= 800).map((t) => `${m.id} hears ${t.id} only at ${levels[m.id]![t.freq]}`));
      if (!missing.length) break;
      assert.ok(attempt < 3, missing.join('; '));
    }

    // b stops and starts talking three times (it leaves the sum after the gate's hang time and joins it again on its
    // first loud frame): b's own tone must never appear in what b hears, in any 60 ms slice.
    const tb = performance.now();
    for (let k = 0; k < 3; k++) {
      b.talking = false;
      await sleep(700);
      b.talking = true;
      await sleep(500);
    }
    await sleep(300);
    const own = slices(b, tb, b.freq);
    const worst = Math.round(Math.max(...own));
    const floorLo = slices(b, tb, 250), floorHi = slices(b, tb, 850);
    const iw = own.indexOf(Math.max(...own));
    console.log(`b's own ${b.freq} Hz in what b heard while switching: max ${worst} over ${own.length} slices (slice ${iw}: 250 Hz ${Math.round(floorLo[iw]!)}, 850 Hz ${Math.round(floorHi[iw]!)}); a's tone there: ${level(b, tb, a.freq)}`);
    assert.ok(own.length > 30, `b received audio while switching (${own.length} slices)`);
    assert.ok(worst < 150, `b never hears itself (max ${worst})`);
    // The listeners hear b again once it talks (up to three windows for a loaded moment).
    for (let attempt = 1; ; attempt++) {
      const t1 = performance.now();
      await sleep(600);
      const heard = [level(l1, t1, b.freq), level(l2, t1, b.freq)];
      if (heard.every((x) => x > 800)) break;
      assert.ok(attempt < 3, `the listeners hear b again (${heard.join(', ')})`);
    }
  } finally {
    for (const m of members) m.stop();
    for (const m of members) await m.peer.stop();
    await server.close();
  }
});

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  for (let waited = 0; waited < ms && !ok(); waited += 20) await sleep(20);
  assert.ok(ok(), what);
}

/**
 * Who hears whom over 1.2 s windows: absence (`heard` false: below 150) must hold in every window looked at, presence
 * (above 800) may take up to three windows for a loaded moment. Absence is looked for once the audio already in
 * flight has drained: the pipeline's latency (at most 5 s, logged; a loaded machine makes it long) is waited out first.
 * Returns when the windows looked at began.
 */
async function hearing(expect: Array<[listener: Member, talker: Member, heard: boolean]>, label: string): Promise<number> {
  const absent = expect.filter(([, , heard]) => !heard);
  const t = performance.now();
  while (absent.some(([l, tk]) => level(l, performance.now() - 400, tk.freq) >= 150) && performance.now() - t < 5000) await sleep(100);
  if (absent.length) console.log(`${label}: the removed tones drained after ${Math.round(performance.now() - t)} ms`);
  const start = performance.now();
  for (let attempt = 1; ; attempt++) {
    const t0 = performance.now();
    await sleep(1200);
    const levels = expect.map(([l, t]) => level(l, t0, t.freq));
    console.log(`${label}, window ${attempt}:`, expect.map(([l, t], i) => `${l.id}←${t.id} ${levels[i]}`).join(', '));
    expect.forEach(([l, t, heard], i) => { if (!heard) assert.ok(levels[i]! < 150, `${l.id} must not hear ${t.id} (${levels[i]})`); });
    const missing = expect.filter(([, , heard], i) => heard && levels[i]! <= 800);
    if (!missing.length) return start;
    assert.ok(attempt < 3, `${label}: ${missing.map(([l, t]) => `${l.id} does not hear ${t.id}`).join('; ')}`);
  }
}

test('hold: the held participant leaves the mix (not heard, hears nothing) but stays in the room with onHold; resume puts them back', { timeout: 90_000 }, async () => {
  const server = await startMixServer();
  const members: Member[] = [];
  try {
    for (const [k, f] of [400, 550, 700].entries()) members.push(await join(server.url, server.secret, `hold-p${k}`, 'hold-room', f, true));
    const [a, h, l] = members as [Member, Member, Member];
    await until('everyone sees three participants', () => members.every((m) => m.list.length === 3));
    assert.ok(members.every((m) => m.list.every((p) => p.onHold === false)), 'nobody on hold at first');
    await sleep(800); // codec start-up
    await hearing([[a, h, true], [l, h, true], [h, a, true], [h, l, true]], 'before hold');

    h.session.send({ type: 'hold', onHold: true });
    await until('everyone sees h on hold', () => members.every((m) => m.list.find((p) => p.id === h.id)?.onHold === true));
    assert.deepEqual(a.list.map((p) => p.id).sort(), members.map((m) => m.id).sort(), 'h is still in the room');
    const tHeld = await hearing([[a, h, false], [l, h, false], [h, a, false], [h, l, false], [a, l, true], [l, a, true]], 'h on hold');
    const heardWhileHeld = h.frames.filter((f) => f.at >= tHeld);
    const peak = Math.max(0, ...heardWhileHeld.flatMap((f) => Array.from(f.samples, Math.abs)));
    console.log(`h on hold received ${heardWhileHeld.length} frames, peak ${peak}`);
    assert.ok(peak < 200, `h hears nothing on hold (peak ${peak})`);

    h.session.send({ type: 'hold', onHold: false });
    await until('everyone sees h back', () => members.every((m) => m.list.find((p) => p.id === h.id)?.onHold === false));
    await sleep(300);
    await hearing([[a, h, true], [l, h, true], [h, a, true], [h, l, true]], 'after resume');
  } finally {
    for (const m of members) m.stop();
    for (const m of members) await m.peer.stop();
    await server.close();
  }
});
