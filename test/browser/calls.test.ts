import { expect } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import { CallingError, type Call, type CallClient, type IncomingCallEvent } from '../../src/core/index.js';
import {
  nextEvent, peakAudioLevel, recordEvents, RemotePage, startClient, startRefused, stopClients, tokenFor, uniqueUser, videoRenders, waitFor,
} from './helpers.js';

const CALL_EVENTS = ['progressing', 'ringing', 'answered', 'established', 'ended'];

async function pair(options: Parameters<typeof startClient>[1] = {}): Promise<{ alice: CallClient; bob: CallClient }> {
  const [alice, bob] = await Promise.all([startClient(uniqueUser('alice'), options), startClient(uniqueUser('bob'), options)]);
  return { alice, bob };
}

/** Alice calls Bob; resolves with both ends once Bob's call is ringing. */
async function ring(alice: CallClient, bob: CallClient, video = false): Promise<{ out: Call; inc: Call; outEvents: string[] }> {
  const incoming = nextEvent<IncomingCallEvent>(bob, 'incomingcall');
  const out = video ? alice.callUserVideo(bob.userId) : alice.callUser(bob.userId);
  const outEvents = recordEvents(out, CALL_EVENTS);
  const inc = (await incoming).call;
  return { out, inc, outEvents };
}

async function establish(alice: CallClient, bob: CallClient, video = false) {
  const r = await ring(alice, bob, video);
  const established = Promise.all([nextEvent(r.out, 'established'), nextEvent(r.inc, 'established')]);
  r.inc.answer();
  await established;
  return r;
}

afterEach(stopClients);

describe('app-to-app calls in one page', () => {
  it('each side learns the other\'s display name: the callee from the invite, the caller when it rings', async () => {
    const [alice, bob] = await Promise.all([
      startClient(uniqueUser('alice'), { displayName: 'Alice Andersson' }),
      startClient(uniqueUser('bob'), { displayName: 'Bob <b>Berg</b>' }),
    ]);
    const incoming = nextEvent<IncomingCallEvent>(bob, 'incomingcall');
    const out = alice.callUser(bob.userId);
    expect(out.remoteDisplayName, 'not known before the callee answers the invite').to.equal(undefined);
    const inc = (await incoming).call;
    expect(inc.participants[0].displayName).to.equal('Alice Andersson');
    await nextEvent(out, 'ringing');
    expect(out.remoteDisplayName).to.equal('Bob <b>Berg</b>');
    expect(out.participants).to.deep.equal([{ id: bob.userId, displayName: 'Bob <b>Berg</b>' }]);
    const established = nextEvent(out, 'established');
    inc.answer();
    await established;
    expect(out.participants[0].displayName).to.equal('Bob <b>Berg</b>');
    out.hangup();
  });

  it('an audio call rings, connects with audio both ways and ends for both when the caller hangs up', async () => {
    const { alice, bob } = await pair();
    const { out, inc, outEvents } = await ring(alice, bob);
    expect(inc.direction).to.equal('incoming');
    expect(inc.remoteUserId).to.equal(alice.userId);
    expect(inc.state).to.equal('ringing');
    expect(inc.details.isVideoOffered).to.equal(false);
    expect(out.direction).to.equal('outgoing');
    expect(out.remoteUserId).to.equal(bob.userId);
    expect(out.participants.map((p) => p.id)).to.deep.equal([bob.userId]);

    const incEvents = recordEvents(inc, CALL_EVENTS);
    const both = Promise.all([nextEvent(out, 'established'), nextEvent(inc, 'established')]);
    inc.answer();
    await both;
    expect(outEvents).to.deep.equal(['progressing', 'ringing', 'answered', 'established']);
    expect(incEvents).to.deep.equal(['answered', 'established']);

    const d = out.details;
    expect(d.progressedTime!.getTime()).to.be.at.least(d.startedTime.getTime());
    expect(d.rungTime!.getTime()).to.be.at.least(d.progressedTime!.getTime());
    expect(d.answeredTime!.getTime()).to.be.at.least(d.rungTime!.getTime());
    expect(d.establishedTime!.getTime()).to.be.at.least(d.answeredTime!.getTime());

    // Real audio arrives on both sides (the fake microphone beeps).
    expect(out.remoteStream!.getAudioTracks()[0].readyState).to.equal('live');
    expect(await peakAudioLevel(out.remoteStream!)).to.be.greaterThan(0.01);
    expect(await peakAudioLevel(inc.remoteStream!)).to.be.greaterThan(0.01);

    const localTracks = out.localStream!.getTracks();
    const ended = Promise.all([nextEvent(out, 'ended'), nextEvent(inc, 'ended')]);
    out.hangup();
    await ended;
    expect(out.details.endCause).to.equal('hungUp');
    expect(inc.details.endCause).to.equal('hungUp');
    expect(outEvents.at(-1)).to.equal('ended');
    expect(out.details.endedTime).to.be.instanceOf(Date);
    expect(localTracks.every((t) => t.readyState === 'ended')).to.equal(true);
    expect(alice.activeCalls).to.have.length(0);
    expect(bob.activeCalls).to.have.length(0);
  });

  it('a video call offers video before answering and shows live video both ways', async () => {
    const { alice, bob } = await pair();
    const { out, inc } = await ring(alice, bob, true);
    expect(inc.details.isVideoOffered).to.equal(true);
    const both = Promise.all([nextEvent(out, 'established'), nextEvent(inc, 'established')]);
    inc.answer();
    await both;
    expect(out.hasVideo).to.equal(true);
    expect(inc.hasVideo).to.equal(true);
    const [a, b] = await Promise.all([videoRenders(out.remoteStream!), videoRenders(inc.remoteStream!)]);
    expect(a.width).to.be.greaterThan(0);
    expect(b.width).to.be.greaterThan(0);

    // Pausing video and muting change the real tracks, and the other side is told.
    const told = nextEvent(inc, 'mediachange');
    out.pauseVideo();
    expect(out.localStream!.getVideoTracks()[0].enabled).to.equal(false);
    await told;
    expect(inc.isRemoteVideoPaused).to.equal(true);
    out.resumeVideo();
    out.mute();
    expect(out.localStream!.getAudioTracks()[0].enabled).to.equal(false);
    expect(out.isMuted).to.equal(true);
    await waitFor(() => inc.isRemoteMuted, 3000, 'remote mute');
    out.unmute();
    expect(out.localStream!.getAudioTracks()[0].enabled).to.equal(true);
  });

  it('a video call can be answered with audio only', async () => {
    const { alice, bob } = await pair();
    const { out, inc } = await ring(alice, bob, true);
    const both = Promise.all([nextEvent(out, 'established'), nextEvent(inc, 'established')]);
    inc.answer({ video: false });
    await both;
    expect(inc.localStream!.getVideoTracks()).to.have.length(0);
    expect(inc.hasVideo).to.equal(false);
    expect(out.remoteStream!.getVideoTracks()).to.have.length(0);
  });

  it('declining tells the caller the call was denied', async () => {
    const { alice, bob } = await pair();
    const { out, inc, outEvents } = await ring(alice, bob);
    await waitFor(() => out.state === 'ringing', 5000, 'caller ringing');
    const ended = Promise.all([nextEvent(out, 'ended'), nextEvent(inc, 'ended')]);
    inc.hangup();
    await ended;
    expect(out.details.endCause).to.equal('denied');
    expect(inc.details.endCause).to.equal('denied');
    expect(outEvents).to.deep.equal(['progressing', 'ringing', 'ended']);
    expect(out.details.establishedTime).to.equal(undefined);
    expect(out.details.duration).to.equal(0);
  });

  it('hanging up before the answer cancels the ringing call on the callee', async () => {
    const { alice, bob } = await pair();
    const { out, inc } = await ring(alice, bob);
    const ended = Promise.all([nextEvent(out, 'ended'), nextEvent(inc, 'ended')]);
    out.hangup();
    await ended;
    expect(out.details.endCause).to.equal('canceled');
    expect(inc.details.endCause).to.equal('canceled');
    expect(() => inc.answer()).to.throw(CallingError);
  });

  it('hanging up while still connecting ends the call, and the callee never keeps ringing', async () => {
    const { alice, bob } = await pair();
    let incoming: Call | undefined;
    bob.addEventListener('incomingcall', (e) => { incoming = e.call; });
    const out = alice.callUser(bob.userId);
    await nextEvent(out, 'progressing'); // the invite reached Bob's device, nothing answered yet
    out.hangup();
    expect(out.state).to.equal('ended');
    expect(out.details.endCause).to.equal('canceled');
    await waitFor(() => incoming?.state === 'ended', 5000, 'callee call ended');
    expect(incoming!.details.endCause).to.equal('canceled');

    // And hanging up at once (before even the microphone is open) sends nothing at all.
    const quick = alice.callUser(bob.userId);
    quick.hangup();
    expect(quick.details.endCause).to.equal('canceled');
    await new Promise((r) => setTimeout(r, 500));
    expect(bob.activeCalls).to.have.length(0);
  });

  it('either side hanging up an established call ends it for both', async () => {
    const { alice, bob } = await pair();
    const { out, inc } = await establish(alice, bob);
    const ended = Promise.all([nextEvent(out, 'ended'), nextEvent(inc, 'ended')]);
    inc.hangup();
    await ended;
    expect(out.details.endCause).to.equal('hungUp');
    expect(inc.details.endCause).to.equal('hungUp');
    expect(out.details.establishedTime).to.be.instanceOf(Date);
  });

  it('calling a user who is not online ends with unavailable quickly', async () => {
    const { alice } = await pair();
    const call = alice.callUser(uniqueUser('nobody'));
    const t0 = performance.now();
    await nextEvent(call, 'ended', 5000);
    const elapsed = performance.now() - t0;
    expect(call.details.endCause).to.equal('unavailable');
    expect(call.details.error?.domain).to.equal('network');
    // Generous bound for a busy CI machine; `npm run bench` measures the real figure.
    expect(elapsed).to.be.lessThan(3000);
    expect(alice.activeCalls).to.have.length(0);
  });

  it('a call nobody answers ends with noAnswer on both sides', async () => {
    const { alice, bob } = await pair({ noAnswerTimeout: 1500 });
    const { out, inc } = await ring(alice, bob);
    await Promise.all([nextEvent(out, 'ended', 5000), nextEvent(inc, 'ended', 5000)]);
    expect(out.details.endCause).to.equal('noAnswer');
    expect(inc.details.endCause).to.equal('noAnswer');
  });

  it('invalid input throws a typed error before anything is sent', async () => {
    const { alice, bob } = await pair();
    let rang = false;
    bob.addEventListener('incomingcall', () => { rang = true; });
    const bad: Array<[string, string]> = [
      ['', 'invalid-user-id'],
      ['x'.repeat(65), 'invalid-user-id'],
      ['bob\nsmith', 'invalid-user-id'],
      ['<img src=x onerror=alert(1)>', 'invalid-user-id'],
      [alice.userId, 'calling-self'],
    ];
    for (const [id, code] of bad) {
      const err = (() => { try { alice.callUser(id); } catch (e) { return e; } })();
      expect(err, id).to.be.instanceOf(CallingError);
      expect((err as CallingError).domain).to.equal('argument');
      expect((err as CallingError).code).to.equal(code);
    }
    expect(() => alice.callUser(42 as unknown as string)).to.throw(CallingError);
    await new Promise((r) => setTimeout(r, 300));
    expect(rang).to.equal(false);
    expect(alice.activeCalls).to.have.length(0);
  });

  it('calling needs setSupportCalling(true) and start()', async () => {
    const { CallClient } = await import('../../src/core/index.js');
    const server = (await (await fetch('/__calling-config')).json()).server as string;
    const offId = uniqueUser('off');
    const off = new CallClient({ userId: offId, server, token: tokenFor(offId) });
    await off.start();
    try {
      expect(() => off.callUser('bob')).to.throw(CallingError).with.property('code', 'calling-not-supported');
    } finally {
      await off.stop();
    }
    const notStarted = new CallClient({ userId: uniqueUser('idle'), server });
    notStarted.setSupportCalling(true);
    expect(() => notStarted.callUser('bob')).to.throw(CallingError).with.property('domain', 'capability');
    expect(() => new CallClient({ userId: 'a b', server })).to.throw(CallingError);
    expect(() => new CallClient({ userId: 'ok', server: 'not a url' })).to.throw(CallingError).with.property('code', 'invalid-server');
  });

  it('a second client of a user already online is a second device; the same device id twice is refused', async () => {
    const { alice } = await pair();
    const { CallClient } = await import('../../src/core/index.js');
    const server = (await (await fetch('/__calling-config')).json()).server as string;
    // Same user id, no device id: registers as another device of the user (see test/browser/multi-device).
    const second = await startClient(alice.userId);
    expect(second.connectionState).to.equal('connected');
    expect(second.peerId).to.equal(`${alice.userId} ${second.deviceTag}`);
    // Same user id and same device id as a device online: refused with a signalling error.
    const twin = new CallClient({ userId: alice.userId, server, token: tokenFor(alice.userId), deviceId: second.deviceTag });
    const error = await startRefused(twin);
    expect(error.domain).to.equal('signalling');
    expect(error.code).to.equal('unavailable-id');
    expect(twin.connectionState).to.equal('disconnected');
  });
});

describe('app-to-app calls between two pages', () => {
  let remote: RemotePage | undefined;
  afterEach(async () => {
    await remote?.close();
    remote = undefined;
  });

  it('calls a user in another tab, who answers; hang-up from either side ends both', async () => {
    const alice = await startClient(uniqueUser('alice'));
    const bobId = uniqueUser('bob');
    remote = await RemotePage.open();
    await remote.run(`await remote.start(${JSON.stringify(bobId)}, { autoAnswer: true }); return true;`);

    const call = alice.callUserVideo(bobId);
    const events = recordEvents(call, CALL_EVENTS);
    await nextEvent(call, 'established');
    expect(events).to.deep.equal(['progressing', 'ringing', 'answered', 'established']);
    await videoRenders(call.remoteStream!);
    expect(await peakAudioLevel(call.remoteStream!)).to.be.greaterThan(0.01);
    const remoteSaw = await remote.run<{ offered: boolean; events: string[] }>(
      'await remote.waitFor(() => remote.call?.state === "established"); return { offered: remote.call.details.isVideoOffered, events: remote.events };',
    );
    expect(remoteSaw.offered).to.equal(true);
    expect(remoteSaw.events).to.include.members(['incomingcall', 'established']);

    // The remote side hangs up this time.
    const ended = nextEvent(call, 'ended');
    await remote.run('remote.call.hangup(); return true;');
    await ended;
    expect(call.details.endCause).to.equal('hungUp');
    expect(await remote.run('return remote.call.details.endCause;')).to.equal('hungUp');

    // A second call from the same clients, this time the caller hangs up.
    const again = alice.callUser(bobId);
    await nextEvent(again, 'established');
    again.hangup();
    await remote.run('await remote.waitFor(() => remote.call.state === "ended"); return true;');
    expect(await remote.run('return remote.call.details.endCause;')).to.equal('hungUp');
  });

  /** A call to another tab, established; then that tab closes (`silent`: as a crash, no pagehide handler runs). */
  async function closeTabMidCall(silent: boolean): Promise<{ call: Call; ms: number }> {
    const alice = await startClient(uniqueUser('alice'));
    const bobId = uniqueUser('bob');
    remote = await RemotePage.open();
    await remote.run(`await remote.start(${JSON.stringify(bobId)}, { autoAnswer: true }); return true;`);
    const call = alice.callUser(bobId);
    await nextEvent(call, 'established');
    if (silent) await remote.run('remote.silentClose = true; return true;');
    const t0 = performance.now();
    const ended = nextEvent(call, 'ended', 15_000); // listening first: the goodbye can beat the command's reply
    await remote.close();
    remote = undefined;
    await ended;
    return { call, ms: performance.now() - t0 };
  }

  it('the other tab closing mid-call says goodbye: the call ends as hung up at once', async () => {
    const { call, ms } = await closeTabMidCall(false);
    expect(call.details.endCause).to.equal('hungUp');
    expect(call.details.error).to.equal(undefined);
    // Measured 73–86 ms; without the goodbye the far end learns it only from ICE consent, about 8 s later.
    expect(ms).to.be.lessThan(2_000);
  });

  it('a tab that vanishes without a goodbye (a crash, a killed process) ends the call with a network failure within seconds', async () => {
    const { call, ms } = await closeTabMidCall(true);
    expect(call.details.endCause).to.equal('failure');
    expect(call.details.error?.domain).to.equal('network');
    // It sends nothing: ICE consent runs out (~5 s without answers makes it `disconnected`), then the
    // call's disconnectGrace (3 s) ends it — about 8 s on a quiet machine (measured 8.06 s), 10.8 s once on a loaded one.
    expect(call.details.error?.code).to.equal('ice-disconnected');
    expect(ms).to.be.lessThan(12_000);
  });
});

describe('a service that goes silent', () => {
  it('a gateway that takes the invite and then says nothing ends the call with failure after connectTimeout, not noAnswer', async () => {
    const { server } = await executeServerCommand<{ server: string }, object>('silent-service', { action: 'start' });
    try {
      const alice = await startClient(uniqueUser('alice'), { server, connectTimeout: 1500 });
      const started = performance.now();
      const call = alice.callSip('nobody@127.0.0.1:5999');
      const events = recordEvents(call, CALL_EVENTS);
      await nextEvent(call, 'ended', 10_000);
      const elapsed = performance.now() - started;
      expect(events).to.deep.equal(['progressing', 'ended']);
      expect(call.details.endCause).to.equal('failure');
      expect(call.details.error?.code).to.equal('service-no-response');
      expect(call.details.error?.message).to.equal('The calling gateway did not respond.');
      expect(elapsed, `ended after ${Math.round(elapsed)} ms`).to.be.within(1500, 6000);
    } finally {
      // Stopped before the client, so the page's hang-up can still reach it.
      const gateway = await executeServerCommand<{ invites: number; ends: Array<{ cause: string; by: string }> }, object>('silent-service', { action: 'stop' });
      await stopClients();
      // The gateway took the invite and was told the call failed.
      expect(gateway.invites).to.equal(1);
      expect(gateway.ends).to.deep.equal([{ cause: 'failure', by: 'remote' }]);
    }
  });
});
