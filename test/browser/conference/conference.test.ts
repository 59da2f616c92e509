// Conference rooms in real Chromium against the real calling server and conference service (127.0.0.1).
// Each client's microphone is a Web Audio oscillator of its own frequency; Goertzel on what each one receives proves
// mix-minus: every other frequency, not its own.
import { expect } from '@open-wc/testing';
import type { Call, CallClient, CallParticipant } from '../../../src/core/index.js';
import { CallingError } from '../../../src/core/index.js';
import { nextEvent, startClient, stopClients, toneStream, uniqueUser, waitFor } from '../helpers.js';

const ctx = new AudioContext();

/** A `getUserMedia` stand-in: a sine at `freq` (amplitude 0.3) as the microphone. */
function toneMic(freq: number): () => Promise<MediaStream> {
  return async () => {
    await ctx.resume();
    return toneStream(ctx, freq, 0.3);
  };
}

/**
 * Spectrum of a remote stream as Web Audio receives it (a muted <audio> must play it too, in Chromium): an
 * AnalyserNode on the audio thread, read every 50 ms for `ms` and averaged, so a busy main thread cannot corrupt it.
 * Returns, per frequency, the linear magnitude around that bin (a 0.3 sine reads ≈ 0.06; silence ≈ 0.0002).
 */
async function levels(call: Call, freqs: number[], ms = 1500): Promise<Record<number, number>> {
  const stream = call.remoteStream!;
  const audio = new Audio();
  audio.muted = true;
  audio.srcObject = stream;
  await audio.play().catch(() => undefined);
  await ctx.resume();
  const source = ctx.createMediaStreamSource(stream);
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 8192;
  analyser.smoothingTimeConstant = 0;
  source.connect(analyser);
  const bins = new Float32Array(analyser.frequencyBinCount);
  const sums = freqs.map(() => 0);
  let n = 0;
  const end = performance.now() + ms;
  // Skip the first second: a stream tapped again can first replay audio buffered since it was last read.
  await new Promise((r) => setTimeout(r, 1000));
  while (performance.now() < end) {
    analyser.getFloatFrequencyData(bins);
    freqs.forEach((f, i) => {
      const k = Math.round((f * analyser.fftSize) / ctx.sampleRate);
      let m = 0;
      for (let j = k - 2; j <= k + 2; j++) m = Math.max(m, 10 ** ((bins[j] ?? -200) / 20));
      sums[i]! += m;
    });
    n++;
    await new Promise((r) => setTimeout(r, 50));
  }
  source.disconnect();
  audio.srcObject = null;
  return Object.fromEntries(freqs.map((f, i) => [f, Number((sums[i]! / Math.max(1, n)).toFixed(5))]));
}

async function room(id: string): Promise<{ status: number; body: { participants?: Array<{ id: string; state: string; muted: boolean }>; error?: { code: string } } }> {
  return (await fetch(`/__conference?${new URLSearchParams({ op: 'room', id })}`)).json();
}

function ids(list: readonly CallParticipant[]): string[] {
  return list.map((p) => p.id).sort();
}

describe('conference rooms', function () {
  this.timeout(90_000);
  afterEach(() => stopClients());

  it('three clients: each hears the two others and not itself; participants, mute, full room, leave, last out removes the room', async () => {
    const roomId = `standup-${Date.now().toString(36)}`;
    const freqs = [400, 550, 700];
    const clients: CallClient[] = [];
    for (const [k, f] of freqs.entries()) {
      clients.push(await startClient(uniqueUser(`conf${k}`), { displayName: `Member ${k}`, getUserMedia: toneMic(f) }));
    }
    const joined: string[][] = [[], [], []];
    const calls: Call[] = [];
    for (const [k, c] of clients.entries()) {
      const call = c.callConference(roomId);
      expect(call.callType).to.equal('conference');
      expect(call.participants).to.deep.equal([]);
      call.addEventListener('participantjoined', (e) => joined[k]!.push(e.participant.id));
      calls.push(call);
      await nextEvent(call, 'established', 20_000);
    }
    const everyone = ids(clients.map((c) => ({ id: c.userId })));
    for (const call of calls) await waitFor(() => call.participants.length === 3, 10_000, 'three participants');
    for (const [k, call] of calls.entries()) {
      expect(ids(call.participants)).to.deep.equal(everyone);
      expect(joined[k]!.sort()).to.deep.equal(everyone);
      expect(call.participants.find((p) => p.id === clients[0]!.userId)?.displayName).to.equal('Member 0');
    }

    // Chromium's legs run the service's default codec, G.722 (CONFERENCE_CODEC).
    await new Promise((r) => setTimeout(r, 1000));
    for (const call of calls) expect((await call.getStats())?.audioCodec?.toLowerCase()).to.equal('audio/g722');
    // Spectrum: every other frequency, never one's own.
    // Own tone absent in every window; every other tone present, allowing three windows for a loaded moment.
    for (let attempt = 1; ; attempt++) {
      const heard: Record<string, Record<number, number>> = {};
      for (const [k, call] of calls.entries()) heard[`client${k}`] = await levels(call, freqs);
      console.log(`conference levels (sent 0.3 each), window ${attempt}: ${JSON.stringify(heard)}`);
      for (const [k] of calls.entries()) expect(heard[`client${k}`]![freqs[k]!], `client${k} hears itself`).to.be.below(0.005);
      const weak = calls.flatMap((_, k) => freqs.filter((f, j) => j !== k && heard[`client${k}`]![f]! <= 0.02).map((f) => `client${k} ${f} Hz`));
      if (!weak.length) break;
      expect(attempt, `weak: ${weak.join(', ')}`).to.be.below(3);
    }
    // Speaking: everyone sends a tone.
    await waitFor(() => calls[0]!.participants.every((p) => p.speaking === true), 5000, 'everyone speaking');

    // A fourth joiner is refused with a typed error: the room holds 3 (the test server's limit).
    const extra = await startClient(uniqueUser('conf3'), { getUserMedia: toneMic(850) });
    const refused = extra.callConference(roomId);
    await nextEvent(refused, 'ended', 10_000);
    expect(refused.details.endCause).to.equal('denied');
    expect(refused.details.error).to.be.instanceOf(CallingError);
    expect([refused.details.error?.domain, refused.details.error?.code]).to.deep.equal(['capability', 'conference-full']);
    // Bad ids never leave the client.
    expect(() => extra.callConference('no spaces allowed')).to.throw(CallingError).with.property('code', 'invalid-conference-id');
    expect(() => extra.callConference('x'.repeat(65))).to.throw(CallingError).with.property('domain', 'argument');

    // Client 1 mutes: the others see it, and its tone leaves their mix.
    const changed = nextEvent<Event & { participant: CallParticipant }>(calls[0]!, 'participantchanged');
    calls[1]!.mute();
    await waitFor(() => calls[0]!.participants.find((p) => p.id === clients[1]!.userId)?.muted === true, 5000, 'mute visible');
    expect((await changed).participant.id).to.equal(clients[1]!.userId);
    expect(calls[2]!.participants.find((p) => p.id === clients[1]!.userId)?.muted).to.equal(true);
    await new Promise((r) => setTimeout(r, 1000));
    for (let attempt = 1; ; attempt++) {
      const afterMute = await levels(calls[0]!, freqs);
      console.log(`client0 after client1 muted: ${JSON.stringify(afterMute)}`);
      expect(afterMute[550]).to.be.below(0.005);
      if (afterMute[700]! > 0.02) break;
      expect(attempt, 'client0 still hears client2').to.be.below(3);
    }
    await waitFor(() => calls[0]!.participants.find((p) => p.id === clients[1]!.userId)?.speaking === false, 5000, 'muted not speaking');

    // Client 2 hangs up: it leaves; the others get participantleft.
    const left = nextEvent<Event & { participant: CallParticipant }>(calls[0]!, 'participantleft');
    calls[2]!.hangup();
    expect((await left).participant.id).to.equal(clients[2]!.userId);
    expect(ids(calls[0]!.participants)).to.deep.equal(ids([{ id: clients[0]!.userId }, { id: clients[1]!.userId }]));
    expect(calls[2]!.details.endCause).to.equal('hungUp');

    // Last ones out: the room is removed (after the test server's 300 ms empty-room timeout).
    expect((await room(roomId)).status).to.equal(200);
    calls[0]!.hangup();
    calls[1]!.hangup();
    await waitFor(async () => (await room(roomId)).status === 404, 10_000, 'room removed');
  });

  it("a user's second device joins a room under the user's id", async () => {
    const room = `room-${uniqueUser('dev')}`;
    const userId = uniqueUser('twodev');
    await startClient(userId, { getUserMedia: toneMic(400) });
    const second = await startClient(userId, { getUserMedia: toneMic(550) });
    expect(second.peerId).to.not.equal(userId); // the first device holds the plain id
    const call = second.callConference(room);
    await nextEvent(call, 'established', 15_000);
    await waitFor(() => call.participants.some((p: CallParticipant) => p.id === userId), 10_000, 'listed under the user id');
    call.hangup();
  });

  it('REST callout: the backend rings a user, who answers and is heard in the room; removal ends their call', async () => {
    const roomId = `callout-${Date.now().toString(36)}`;
    const host = await startClient(uniqueUser('host'), { getUserMedia: toneMic(400) });
    const guest = await startClient(uniqueUser('guest'), { getUserMedia: toneMic(700) });
    const hostCall = host.callConference(roomId);
    await nextEvent(hostCall, 'established', 20_000);

    const incoming = nextEvent<Event & { call: Call }>(guest, 'incomingcall', 10_000);
    const placed = await (await fetch(`/__conference?${new URLSearchParams({ op: 'callout', id: roomId, userId: guest.userId })}`)).json() as { status: number; body: { state: string } };
    expect([placed.status, placed.body.state]).to.deep.equal([201, 'ringing']);
    const guestCall = (await incoming).call;
    expect(guestCall.callType).to.equal('conference');
    expect(guestCall.remoteUserId).to.equal(roomId);
    expect(guestCall.remoteDisplayName).to.equal(`Conference ${roomId}`);
    guestCall.answer();
    await nextEvent(guestCall, 'established', 20_000);
    await waitFor(() => hostCall.participants.length === 2 && guestCall.participants.length === 2, 10_000, 'both listed');

    await new Promise((r) => setTimeout(r, 1000));
    for (let attempt = 1; ; attempt++) {
      const atHost = await levels(hostCall, [400, 700]);
      const atGuest = await levels(guestCall, [400, 700]);
      console.log(`callout levels: host ${JSON.stringify(atHost)}, guest ${JSON.stringify(atGuest)}`);
      expect(atHost[400]).to.be.below(0.005);
      expect(atGuest[700]).to.be.below(0.005);
      if (atHost[700]! > 0.02 && atGuest[400]! > 0.02) break;
      expect(attempt, 'host and guest hear each other').to.be.below(3);
    }

    // Server-side mute shows as muted to the others.
    await fetch(`/__conference?${new URLSearchParams({ op: 'mute', id: roomId, userId: guest.userId, muted: 'true' })}`);
    await waitFor(() => hostCall.participants.find((p) => p.id === guest.userId)?.muted === true, 5000, 'server mute visible');

    // Removing the guest ends their call, with the reason.
    const removed = await (await fetch(`/__conference?${new URLSearchParams({ op: 'remove', id: roomId, userId: guest.userId })}`)).json() as { status: number };
    expect(removed.status).to.equal(204);
    await nextEvent(guestCall, 'ended', 10_000).catch(() => undefined);
    expect(guestCall.state).to.equal('ended');
    expect(guestCall.details.error?.code).to.equal('removed');
    await waitFor(() => hostCall.participants.length === 1, 5000, 'guest gone from the list');
    hostCall.hangup();
  });
  it('REST callout to a user on two devices: both ring, the one that answers is heard in the room, the other ends otherDeviceAnswered', async () => {
    const roomId = `fork-${Date.now().toString(36)}`;
    const host = await startClient(uniqueUser('host'), { getUserMedia: toneMic(400) });
    const guestId = uniqueUser('guest');
    const phone = await startClient(guestId, { getUserMedia: toneMic(700) });
    const tablet = await startClient(guestId, { deviceId: 'tablet', getUserMedia: toneMic(550) });
    expect(tablet.peerId).to.not.equal(guestId);
    const hostCall = host.callConference(roomId);
    await nextEvent(hostCall, 'established', 20_000);

    const onPhone = nextEvent<Event & { call: Call }>(phone, 'incomingcall', 10_000);
    const onTablet = nextEvent<Event & { call: Call }>(tablet, 'incomingcall', 10_000);
    const placed = await (await fetch(`/__conference?${new URLSearchParams({ op: 'callout', id: roomId, userId: guestId })}`)).json() as { status: number; body: { state: string } };
    expect([placed.status, placed.body.state]).to.deep.equal([201, 'ringing']);
    const answering = (await onTablet).call;
    const other = (await onPhone).call;
    for (const c of [answering, other]) {
      expect(c.callType).to.equal('conference');
      expect(c.remoteUserId).to.equal(roomId);
    }
    const otherEnded = nextEvent(other, 'ended', 10_000);
    answering.answer();
    await nextEvent(answering, 'established', 20_000);
    await otherEnded;
    expect(other.details.endCause).to.equal('otherDeviceAnswered');
    expect(other.details.error).to.equal(undefined);
    await waitFor(() => hostCall.participants.length === 2 && answering.participants.length === 2, 10_000, 'both listed');
    expect(ids(hostCall.participants)).to.deep.equal(ids([{ id: host.userId }, { id: guestId }]));

    // The host hears the tablet (550 Hz), not the phone that never joined (700 Hz); the tablet hears the host.
    await new Promise((r) => setTimeout(r, 1000));
    for (let attempt = 1; ; attempt++) {
      const atHost = await levels(hostCall, [400, 550, 700]);
      const atTablet = await levels(answering, [400, 550]);
      console.log(`two-device callout levels: host ${JSON.stringify(atHost)}, tablet ${JSON.stringify(atTablet)}`);
      expect(atHost[400]).to.be.below(0.005);
      expect(atHost[700]).to.be.below(0.005);
      expect(atTablet[550]).to.be.below(0.005);
      if (atHost[550]! > 0.02 && atTablet[400]! > 0.02) break;
      expect(attempt, 'host and tablet hear each other').to.be.below(3);
    }
    answering.hangup();
    await waitFor(() => hostCall.participants.length === 1, 5000, 'guest gone from the list');
    hostCall.hangup();
  });
});
