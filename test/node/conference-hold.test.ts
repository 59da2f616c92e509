// Hold in a conference (issue #16) on a real calling server (127.0.0.1, real WebRTC through @roamhq/wrtc): a
// participant who sends `hold` (as the SDK's `call.hold()` does) leaves the mix without leaving the room — the others
// no longer hear their tone and they hear nothing — and `participants` says `onHold`; resuming puts them back.
import { pacedTone } from '../support/paced-tone.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCallingServer } from '../../src/server/calling-server.js';
import { mintServiceToken, mintUserToken } from '../../src/server/auth/tokens.js';
import { NodePeer, type PeerSession } from '../../src/server/node-peer/index.js';
import { CONFERENCE_PEER_ID, type WireParticipant } from '../../src/core/protocol.js';
import { ConferenceService } from '../../src/server/conference/service.js';
import { toneAmplitude } from '../../src/server/conference/mixer.js';

const loopbackOnly = (a: string) => a === '127.0.0.1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Member {
  id: string;
  peer: NodePeer;
  session: PeerSession;
  freq: number;
  frames: Array<{ at: number; samples: Int16Array; rate: number }>;
  /** The latest `participants` list this member got. */
  list: WireParticipant[];
  stop(): void;
}

async function join(url: string, secret: string, id: string, room: string, freq: number): Promise<Member> {
  const peer = await NodePeer.start({ id, server: url, token: async () => (await mintUserToken(secret, id)).token, candidateFilter: loopbackOnly });
  const session = peer.call(CONFERENCE_PEER_ID, { callId: `${id}-${Date.now()}`, from: id, to: room, callType: 'conference', video: false, headers: {} });
  const m: Member = { id, peer, session, freq, frames: [], list: [], stop: () => undefined };
  session.onAudio((f) => { m.frames.push({ at: performance.now(), samples: f.samples.slice(), rate: f.sampleRate }); });
  session.on('participants', (list) => { m.list = list; });
  m.stop = pacedTone(session, freq, 4000);
  await new Promise<void>((resolve, reject) => {
    session.once('media', () => resolve());
    session.once('end', (e) => reject(new Error(`${id} could not join: ${JSON.stringify(e)}`)));
  });
  return m;
}

/** Mean Goertzel amplitude of `freq` in Hann-windowed 200 ms slices of what `m` received since `from` (0: nothing). */
function level(m: Member, from: number, freq: number): number {
  const frames = m.frames.filter((f) => f.at >= from);
  const rate = frames.at(-1)?.rate ?? 48_000;
  const all: number[] = [];
  for (const f of frames) if (f.rate === rate) all.push(...f.samples);
  const n = Math.round(rate * 0.2);
  const amps: number[] = [];
  for (let o = 0; o + n <= all.length; o += n / 2) {
    const w = new Float32Array(n);
    for (let i = 0; i < n; i++) w[i] = all[o + i]! * (1 - Math.cos((2 * Math.PI * i) / (n - 1)));
    amps.push(toneAmplitude(w, rate, freq));
  }
  return amps.length ? Math.round(amps.reduce((a, b) => a + b, 0) / amps.length) : 0;
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  for (let waited = 0; waited < ms && !ok(); waited += 20) await sleep(20);
  assert.ok(ok(), what);
}

/** Presence: up to three 1.2 s windows for a loaded moment. Absence (`quiet`) must hold in every window looked at. */
async function hearing(expect: Array<[listener: Member, talker: Member, heard: boolean]>, label: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const t0 = performance.now();
    await sleep(1200);
    const levels = expect.map(([l, t]) => level(l, t0, t.freq));
    console.log(`${label}, window ${attempt}:`, expect.map(([l, t], i) => `${l.id}←${t.id} ${levels[i]}`).join(', '));
    expect.forEach(([l, t, heard], i) => { if (!heard) assert.ok(levels[i]! < 150, `${l.id} must not hear ${t.id} (${levels[i]})`); });
    const missing = expect.filter(([, , heard], i) => heard && levels[i]! <= 800);
    if (!missing.length) return;
    assert.ok(attempt < 3, `${label}: ${missing.map(([l, t]) => `${l.id} does not hear ${t.id}`).join('; ')}`);
  }
}

test('conference hold: the held participant leaves the mix (not heard, hears nothing) but stays in the room with onHold; resume puts them back', { timeout: 90_000 }, async () => {
  const server = await startCallingServer({ port: 0, host: '127.0.0.1', serveDemo: false });
  const service = await ConferenceService.start({
    server: server.url, token: async () => (await mintServiceToken(server.secret, CONFERENCE_PEER_ID)).token,
    candidateFilter: loopbackOnly, limits: { emptyRoomTimeout: 200 },
  });
  const members: Member[] = [];
  try {
    for (const [k, f] of [400, 550, 700].entries()) members.push(await join(server.url, server.secret, `hold-p${k}`, 'hold-room', f));
    const [a, h, l] = members as [Member, Member, Member];
    await until('everyone sees three participants', () => members.every((m) => m.list.length === 3));
    assert.ok(members.every((m) => m.list.every((p) => p.onHold === false)), 'nobody on hold at first');
    await sleep(800); // codec start-up
    await hearing([[a, h, true], [l, h, true], [h, a, true], [h, l, true]], 'before hold');

    h.session.send({ type: 'hold', onHold: true });
    await until('everyone sees h on hold', () => members.every((m) => m.list.find((p) => p.id === h.id)?.onHold === true));
    assert.equal(a.list.length, 3, 'h is still in the room');
    const view = (await service.getRoom('hold-room')).participants.find((p) => p.id === h.id);
    assert.equal(view?.onHold, true, 'the REST view says onHold too');
    assert.equal(view?.state, 'joined');
    await sleep(300); // frames already in the mix and in flight
    const tHeld = performance.now();
    await hearing([[a, h, false], [l, h, false], [h, a, false], [h, l, false], [a, l, true], [l, a, true]], 'h on hold');
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
    await service.stop();
    await server.close();
  }
});
