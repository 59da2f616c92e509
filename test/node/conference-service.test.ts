// The conference service on a real calling server (127.0.0.1, real sockets, real WebRTC through @roamhq/wrtc):
// Node peers join a room as participants, each sending its own tone; Goertzel on what each receives.
import { pacedTone } from '../support/paced-tone.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCallingServer, type CallingServer } from '../../src/server/calling-server.js';
import { mintServiceToken, mintUserToken } from '../../src/server/auth/tokens.js';
import { NodePeer, type PeerSession, type SessionEnd } from '../../src/server/node-peer/index.js';
import { CONFERENCE_PEER_ID } from '../../src/core/protocol.js';
import { ConferenceService } from '../../src/server/conference/service.js';
import { toneAmplitude } from '../../src/server/conference/mixer.js';
import { DEFAULT_CODEC, type RoomEvent } from '../../src/server/conference/types.js';

const loopbackOnly = (a: string) => a === '127.0.0.1';
const RATE = 48_000;

async function startService(server: CallingServer, limits = {}): Promise<ConferenceService> {
  return ConferenceService.start({
    server: server.url,
    token: async () => (await mintServiceToken(server.secret, CONFERENCE_PEER_ID)).token,
    candidateFilter: loopbackOnly,
    limits: { emptyRoomTimeout: 200, ...limits },
  });
}

interface Member {
  id: string;
  peer: NodePeer;
  session: PeerSession;
  freq: number;
  /** Frames as `RTCAudioSink` delivers them: 48 kHz for Opus, another rate for other codecs (G.722: 16 kHz). */
  received: Array<{ samples: Int16Array; rate: number }>;
  stop(): void;
}

/** What a member heard: the frames at the rate of the latest one (an Opus leg's first frames may be 16 kHz). */
interface Heard {
  samples: Int16Array;
  rate: number;
}

/** A Node peer that joins `room` like a browser would and sends a sine at `freq` (10 ms frames, paced). */
async function join(server: CallingServer, id: string, room: string, freq: number): Promise<Member> {
  const peer = await NodePeer.start({ id, server: server.url, token: async () => (await mintUserToken(server.secret, id)).token, candidateFilter: loopbackOnly });
  const session = peer.call(CONFERENCE_PEER_ID, { callId: `${id}-${Date.now()}`, from: id, to: room, callType: 'conference', video: false, headers: {}, displayName: id.toUpperCase() });
  const received: Member['received'] = [];
  session.onAudio((f) => { received.push({ samples: f.samples.slice(), rate: f.sampleRate }); });
  const stop = pacedTone(session, freq, 4000);
  await new Promise<void>((resolve, reject) => {
    session.once('media', () => resolve());
    session.once('end', (e) => reject(new Error(`${id} could not join: ${JSON.stringify(e)}`)));
  });
  return { id, peer, session, freq, received, stop };
}

function concat(frames: Int16Array[]): Int16Array {
  const all = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of frames) { all.set(f, o); o += f.length; }
  return all;
}

async function listen(m: Member, ms: number): Promise<Heard> {
  m.received.length = 0;
  await new Promise((r) => setTimeout(r, ms));
  const rate = m.received.at(-1)?.rate ?? RATE;
  return { samples: concat(m.received.filter((f) => f.rate === rate).map((f) => f.samples)), rate };
}

function amp(h: Heard, freq: number): number {
  return toneAmplitude(h.samples, h.rate, freq);
}

async function waitFor(pred: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('three Node participants: each hears the two others and not itself; mute removes a tone; leave and last-out remove the room', { timeout: 60_000 }, async () => {
  const server = await startCallingServer({ port: 0, serveDemo: false });
  const service = await startService(server);
  const events: RoomEvent[] = [];
  service.on('record', (e) => events.push(e));
  const members: Member[] = [];
  try {
    const freqs = [400, 550, 700];
    for (const [k, f] of freqs.entries()) members.push(await join(server, `node-p${k}`, 'standup-42', f));
    await waitFor(async () => (await service.getRoom('standup-42')).participants.filter((p) => p.state === 'joined').length === 3, 10_000, 'three joined');
    // The legs run the default codec (the service answers the Node peers' offers with it).
    const expected = { opus: 'opus', g722: 'G722', pcmu: 'PCMU' }[DEFAULT_CODEC];
    assert.deepEqual(members.map((m) => m.session.audioCodec), members.map(() => expected));
    await new Promise((r) => setTimeout(r, 800)); // codec start-up
    // Presence vs absence, on a shared machine where frames may be late or lost: own tone must be absent in every
    // 1.2 s window; every other tone must be clearly present, allowing up to three windows for a loaded moment.
    for (let attempt = 1; ; attempt++) {
      const levels: Record<string, Record<number, number>> = {};
      const rates: number[] = [];
      for (const m of members) {
        const got = await listen(m, 1200);
        rates.push(got.rate);
        assert.ok(got.samples.length > got.rate * 0.5, `${m.id} received ${got.samples.length} samples at ${got.rate} Hz`);
        levels[m.id] = Object.fromEntries(freqs.map((f) => [f, Math.round(amp(got, f))]));
      }
      console.log(`received tone amplitudes (sent at 4000; ${members[0]!.session.audioCodec} legs, received at ${rates.join('/')} Hz), window ${attempt}:`, JSON.stringify(levels));
      for (const m of members) assert.ok(levels[m.id]![m.freq]! < 200, `${m.id} must not hear its own ${m.freq} Hz (${levels[m.id]![m.freq]})`);
      const missing = members.flatMap((m) => freqs.filter((f) => f !== m.freq && levels[m.id]![f]! <= 800).map((f) => `${m.id} hears ${f} Hz only at ${levels[m.id]![f]}`));
      if (!missing.length) break;
      assert.ok(attempt < 3, missing.join('; '));
    }
    const room = await service.getRoom('standup-42');
    assert.deepEqual(room.participants.map((p) => [p.id, p.displayName, p.muted]).sort(), [['node-p0', 'NODE-P0', false], ['node-p1', 'NODE-P1', false], ['node-p2', 'NODE-P2', false]]);
    assert.ok(room.participants.every((p) => p.speaking), 'everyone sending a tone is speaking');

    // p1 mutes itself (the `media` message a browser sends): its tone leaves the others' mix; the list says muted.
    members[1]!.session.send({ type: 'media', audioMuted: true, videoPaused: false });
    await waitFor(async () => (await service.getRoom('standup-42')).participants.find((p) => p.id === 'node-p1')?.muted === true, 5000, 'muted');
    await new Promise((r) => setTimeout(r, 300));
    for (let attempt = 1; ; attempt++) {
      const at0 = await listen(members[0]!, 1000);
      const lv = { 550: Math.round(amp(at0, 550)), 700: Math.round(amp(at0, 700)) };
      console.log('p0 after p1 muted:', lv);
      assert.ok(lv[550] < 200, `muted p1 gone from p0's mix (${lv[550]})`);
      if (lv[700] > 800) break;
      assert.ok(attempt < 3, `p0 still hears p2 (${lv[700]})`);
    }
    assert.equal((await service.getRoom('standup-42')).participants.find((p) => p.id === 'node-p1')?.speaking, false);

    // Server-side mute (REST) of p2.
    const view = await service.setMuted('standup-42', 'node-p2', true);
    assert.equal(view.mutedByServer, true);
    await new Promise((r) => setTimeout(r, 300));
    const at0b = await listen(members[0]!, 800);
    assert.ok(amp(at0b, 700) < 200, `server-muted p2 gone (${amp(at0b, 700).toFixed(0)})`);

    // p0 hangs up: it leaves the room; the others stay.
    members[0]!.stop();
    members[0]!.session.hangup();
    await waitFor(async () => (await service.getRoom('standup-42')).participants.length === 2, 5000, 'p0 left');
    // Kick p1 via the service; p1's session is told why.
    const kicked = new Promise<unknown>((r) => members[1]!.session.once('end', r));
    await service.removeParticipant('standup-42', 'node-p1');
    const end = await kicked;
    assert.equal((end as { cause: string }).cause, 'hungUp');
    assert.equal((end as { error?: { code: string } }).error?.code, 'removed');
    // Last one out: the room is removed after the empty-room timeout.
    members[2]!.session.hangup();
    await waitFor(() => service.roomCount === 0, 5000, 'room removed');
    await assert.rejects(service.getRoom('standup-42'), { code: 'not-found' });
    const kinds = events.map((e) => `${e.type}${e.participantId ? `:${e.participantId}` : ''}`);
    assert.equal(kinds[0], 'room-created');
    assert.equal(kinds.at(-1), 'room-removed');
    assert.equal(kinds.filter((k) => k.startsWith('participant-joined')).length, 3);
    const left = events.filter((e) => e.type === 'participant-left');
    assert.equal(left.length, 3);
    assert.ok(left.every((e) => typeof e.durationSeconds === 'number' && e.durationSeconds >= 1), JSON.stringify(left));
  } finally {
    for (const m of members) m.stop();
    await service.stop();
    for (const m of members) await m.peer.stop();
    await server.close();
  }
});

test('limits and bad input: typed refusals, nothing crashes', { timeout: 40_000 }, async () => {
  const server = await startCallingServer({ port: 0, serveDemo: false });
  const service = await startService(server, { maxParticipants: 1, maxRooms: 1 });
  const peers: NodePeer[] = [];
  const timers: Member[] = [];
  const attempt = async (id: string, room: string, callType: 'conference' | 'user' = 'conference') => {
    const peer = await NodePeer.start({ id, server: server.url, token: async () => (await mintUserToken(server.secret, id)).token, candidateFilter: loopbackOnly });
    peers.push(peer);
    const s = peer.call(CONFERENCE_PEER_ID, { callId: `${id}-x`, from: id, to: room, callType, video: false, headers: {} });
    return new Promise<unknown>((resolve) => { s.once('end', resolve); s.once('media', () => resolve('joined')); });
  };
  try {
    timers.push(await join(server, 'node-first', 'room-a', 400));
    assert.deepEqual(await attempt('node-second', 'room-a'), { cause: 'denied', by: 'remote', error: { domain: 'capability', code: 'conference-full', message: 'Conference room-a is full (1 participants).' } });
    const other = await attempt('node-third', 'room-b') as { cause: string; error: { code: string } };
    assert.equal(other.error.code, 'too-many-conferences');
    const bad = await attempt('node-fourth', 'bad id!') as { cause: string; error: { domain: string; code: string } };
    assert.deepEqual([bad.cause, bad.error.domain, bad.error.code], ['failure', 'argument', 'invalid-conference-id']);
    const wrong = await attempt('node-fifth', 'room-a', 'user') as { error: { code: string } };
    assert.equal(wrong.error.code, 'not-a-conference');
    // A sender claiming to be someone else (to replace them in the room) is refused.
    const spoofer = await NodePeer.start({ id: 'node-sixth', server: server.url, token: async () => (await mintUserToken(server.secret, 'node-sixth')).token, candidateFilter: loopbackOnly });
    peers.push(spoofer);
    const spoof = spoofer.call(CONFERENCE_PEER_ID, { callId: 'spoof-1', from: 'node-first', to: 'room-a', callType: 'conference', video: false, headers: {} });
    const spoofEnd = await new Promise<{ error?: { code: string } }>((r) => spoof.once('end', r));
    assert.equal(spoofEnd.error?.code, 'invalid-participant');
    assert.equal((await service.getRoom('room-a')).participants.length, 1);
    // REST-side operations reject with typed errors.
    await assert.rejects(service.getRoom('../etc'), { code: 'invalid-conference-id' });
    await assert.rejects(service.getRoom('nope'), { code: 'not-found' });
    await assert.rejects(service.setMuted('room-a', 'ghost', true), { code: 'participant-not-found' });
    await assert.rejects(service.addParticipant('room-a', { userId: 'calling-gateway' }), { code: 'invalid-participant' });
    await assert.rejects(service.addParticipant('room-a', { phoneNumber: '+46701234567' }), { code: 'gateway-unavailable' });
    await assert.rejects(service.addParticipant('room-a', { userId: 'node-first' }), { code: 'already-in-room' });
    // The service still works: end the room for everyone.
    const ended = new Promise<unknown>((r) => timers[0]!.session.once('end', r));
    await service.endRoom('room-a');
    assert.equal((await ended as { cause: string }).cause, 'hungUp');
    assert.equal(service.roomCount, 0);
  } finally {
    for (const m of timers) m.stop();
    await service.stop();
    for (const m of timers) await m.peer.stop();
    for (const p of peers) await p.stop();
    await server.close();
  }
});

test('REST callout: the service rings a user, who answers and is heard in the room', { timeout: 40_000 }, async () => {
  const server = await startCallingServer({ port: 0, serveDemo: false });
  const service = await startService(server);
  const stops: Array<() => void> = [];
  const members: Member[] = [];
  const callee = await NodePeer.start({ id: 'node-callee', server: server.url, token: async () => (await mintUserToken(server.secret, 'node-callee')).token, candidateFilter: loopbackOnly });
  try {
    members.push(await join(server, 'node-host', 'weekly', 400));
    const invited = new Promise<PeerSession>((r) => callee.once('invite', r));
    const view = await service.addParticipant('weekly', { userId: 'node-callee' }, { displayName: 'Weekly sync' });
    assert.equal(view.state, 'ringing');
    const inc = await invited;
    assert.equal(inc.invite.callType, 'conference');
    assert.equal(inc.invite.from, 'weekly');
    assert.equal(inc.invite.displayName, 'Weekly sync');
    stops.push(pacedTone(inc, 850, 4000));
    inc.ringing();
    inc.answer();
    await waitFor(async () => (await service.getRoom('weekly')).participants.every((p) => p.state === 'joined'), 10_000, 'callee joined');
    await new Promise((r) => setTimeout(r, 800));
    for (let attempt = 1; ; attempt++) {
      const a = amp(await listen(members[0]!, 1000), 850);
      if (a > 800) break;
      assert.ok(attempt < 3, `host hears the callee (${a.toFixed(0)})`);
    }
  } finally {
    for (const stop of stops) stop();
    for (const m of members) m.stop();
    await service.stop();
    for (const m of members) await m.peer.stop();
    await callee.stop();
    await server.close();
  }
});

test('REST callout to a user online on two devices: both ring, the first answer joins, the other ends otherDeviceAnswered; declines on both end the callout', { timeout: 40_000 }, async () => {
  const server = await startCallingServer({ port: 0, serveDemo: false });
  const service = await startService(server);
  const events: RoomEvent[] = [];
  service.on('record', (e) => events.push(e));
  const stops: Array<() => void> = [];
  const members: Member[] = [];
  const token = async () => (await mintUserToken(server.secret, 'node-multi')).token;
  const phone = await NodePeer.start({ id: 'node-multi', server: server.url, token, candidateFilter: loopbackOnly });
  const tablet = await NodePeer.start({ id: 'node-multi tablet', server: server.url, token, candidateFilter: loopbackOnly });
  const ring = async () => {
    const onPhone = new Promise<PeerSession>((r) => phone.once('invite', r));
    const onTablet = new Promise<PeerSession>((r) => tablet.once('invite', r));
    const view = await service.addParticipant('multi', { userId: 'node-multi' });
    assert.equal(view.state, 'ringing');
    const [a, b] = await Promise.all([onPhone, onTablet]);
    for (const s of [a, b]) {
      assert.deepEqual([s.invite.callType, s.invite.from, s.invite.to], ['conference', 'multi', 'node-multi']);
      s.ringing();
    }
    assert.notEqual(a.callId, b.callId);
    return { view, a, b };
  };
  try {
    members.push(await join(server, 'node-multi-host', 'multi', 400));
    const { view, a, b } = await ring();
    const tabletEnd = new Promise<SessionEnd>((r) => b.once('end', r));
    stops.push(pacedTone(a, 850, 4000));
    a.answer();
    const end = await tabletEnd;
    assert.deepEqual([end.cause, end.by], ['otherDeviceAnswered', 'remote']);
    await waitFor(async () => (await service.getRoom('multi')).participants.every((p) => p.state === 'joined'), 10_000, 'callee joined');
    const joined = (await service.getRoom('multi')).participants.find((p) => p.id === 'node-multi');
    assert.equal(joined?.callId, view.callId, 'the REST callout\'s call id stays the participant\'s');
    const record = events.find((e) => e.type === 'participant-joined' && e.participantId === 'node-multi');
    assert.deepEqual([record?.callId, record?.peerId], [view.callId, 'node-multi']);
    await new Promise((r) => setTimeout(r, 800));
    for (let attempt = 1; ; attempt++) {
      const a850 = amp(await listen(members[0]!, 1000), 850);
      if (a850 > 800) break;
      assert.ok(attempt < 3, `host hears the device that answered (${a850.toFixed(0)})`);
    }
    // Removed, then called out again: a decline on one device leaves the other ringing; the second decline ends it.
    const removed = new Promise<SessionEnd>((r) => a.once('end', r));
    await service.removeParticipant('multi', 'node-multi');
    assert.equal((await removed).error?.code, 'removed');
    await waitFor(async () => (await service.getRoom('multi')).participants.length === 1, 5000, 'callee removed');
    const again = await ring();
    again.b.deny();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await service.getRoom('multi')).participants.find((p) => p.id === 'node-multi')?.state, 'ringing');
    assert.equal(again.a.ended, undefined, 'the phone still rings');
    again.a.deny();
    await waitFor(async () => (await service.getRoom('multi')).participants.length === 1, 5000, 'declined callout gone');
    const left = events.filter((e) => e.type === 'participant-left' && e.participantId === 'node-multi').at(-1);
    assert.equal(left?.cause, 'denied');
  } finally {
    for (const stop of stops) stop();
    for (const m of members) m.stop();
    await service.stop();
    for (const m of members) await m.peer.stop();
    await phone.stop();
    await tablet.stop();
    await server.close();
  }
});

/** A calling server with the gateway and a conference service that calls phone / SIP participants through it. */
async function startWithGateway() {
  const { Gateway } = await import('../../src/server/gateway/gateway.js');
  const { GATEWAY_PEER_ID } = await import('../../src/core/protocol.js');
  const server = await startCallingServer({ port: 0, serveDemo: false });
  const gateway = await Gateway.start({
    server: server.url, token: async () => (await mintServiceToken(server.secret, GATEWAY_PEER_ID)).token, sipHost: '127.0.0.1', sipPort: 0,
    candidateFilter: loopbackOnly,
  });
  const service = await ConferenceService.start({
    server: server.url, token: async () => (await mintServiceToken(server.secret, CONFERENCE_PEER_ID)).token,
    candidateFilter: loopbackOnly, gateway: true, limits: { emptyRoomTimeout: 200 },
  });
  return { server, gateway, service };
}

test('phone callout through the gateway: the test number joins the room, is heard, and leaves when it hangs up', { timeout: 60_000 }, async () => {
  const { server, gateway, service } = await startWithGateway();
  const events: RoomEvent[] = [];
  service.on('record', (e) => events.push(e));
  const members: Member[] = [];
  try {
    members.push(await join(server, 'node-phone-host', 'dial-in', 400));
    const energy: number[] = [];
    members[0]!.session.onAudio((f) => {
      let e = 0;
      for (const v of f.samples) e += v * v;
      energy.push(Math.sqrt(e / f.samples.length));
    });
    const view = await service.addParticipant('dial-in', { phoneNumber: '+46000000000' }, { displayName: 'Test line' });
    assert.deepEqual([view.kind, view.state, view.id], ['phone', 'ringing', '+46000000000']);
    await waitFor(async () => (await service.getRoom('dial-in')).participants.some((p) => p.id === '+46000000000' && p.state === 'joined'), 15_000, 'phone leg joined');
    // The test number plays its prompt, then hangs up: the leg leaves the room.
    await waitFor(() => events.some((e) => e.type === 'participant-left' && e.participantId === '+46000000000'), 20_000, 'phone leg left');
    const loud = energy.filter((x) => x > 300).length;
    console.log(`host heard the prompt in ${loud} of ${energy.length} frames (RMS > 300)`);
    assert.ok(loud > 50, `the room heard the phone leg (${loud} loud frames)`);
    assert.deepEqual((await service.getRoom('dial-in')).participants.map((p) => p.id), ['node-phone-host']);
    await assert.rejects(service.addParticipant('dial-in', { sipAddress: 'not a sip address' }), { code: 'invalid-participant' });
  } finally {
    for (const m of members) m.stop();
    await service.stop();
    for (const m of members) await m.peer.stop();
    await gateway.stop();
    await server.close();
  }
});

test('SIP callout through the gateway whose far end holds (sipp re-INVITE a=sendonly): onHold in the room and in participants, then resumed', { timeout: 60_000 }, async () => {
  const { startSipp } = await import('./gateway-harness.js');
  const { server, gateway, service } = await startWithGateway();
  const sipp = await startSipp('hold.xml');
  const members: Member[] = [];
  try {
    members.push(await join(server, 'node-hold-host', 'held-leg', 400));
    const seen: boolean[] = [];
    members[0]!.session.on('participants', (list) => {
      const leg = list.find((p) => p.id !== 'node-hold-host');
      if (leg?.onHold !== undefined && leg.onHold !== seen.at(-1)) seen.push(leg.onHold);
    });
    const sip = `bob@127.0.0.1:${sipp.port}`;
    await service.addParticipant('held-leg', { sipAddress: sip });
    const onHold = async () => (await service.getRoom('held-leg')).participants.find((p) => p.id === sip)?.onHold;
    await waitFor(async () => (await onHold()) === true, 15_000, 'the SIP leg on hold');
    await waitFor(async () => (await onHold()) === false, 10_000, 'the SIP leg resumed');
    await waitFor(async () => (await service.getRoom('held-leg')).participants.length === 1, 10_000, 'the SIP leg hung up');
    assert.deepEqual(seen, [false, true, false], 'the host saw the leg join, go on hold and come back');
    assert.equal(await sipp.done, 0);
  } finally {
    sipp.stop();
    for (const m of members) m.stop();
    await service.stop();
    for (const m of members) await m.peer.stop();
    await gateway.stop();
    await server.close();
  }
});
