// Several devices per user, in real Chromium against the run's calling server: every device rings, the first answer
// wins and the others end `otherDeviceAnswered`, declines (one device / all devices), cancel, nobody online, device
// ids at the handshake, and the server's one call record per call.
import { expect } from '@open-wc/testing';
import { Peer } from 'peerjs';
import { CallClient, CallingError, type Call, type IncomingCallEvent } from '../../../src/core/index.js';
import {
  callingServer, nextEvent, peakAudioLevel, RemotePage, startClient, startRefused, stopClients, tokenFor, uniqueUser, waitFor,
} from '../helpers.js';

type Row = { callId: string; caller: string; callee: string; calleePeer: string; endCause: string | null; establishedAt: number | null };
async function record(userId: string, callId: string): Promise<Row | undefined> {
  const page = (await (await fetch(`/__calling-records?user=${encodeURIComponent(userId)}`)).json()) as { items: Row[] };
  return page.items.find((r) => r.callId === callId);
}
async function recordsOf(userId: string, callId: string): Promise<Row[]> {
  const page = (await (await fetch(`/__calling-records?user=${encodeURIComponent(userId)}`)).json()) as { items: Row[] };
  return page.items.filter((r) => r.callId === callId);
}

/** Alice and two devices of Bob in this page. */
async function alicePlusTwoBobs(options: { bob1?: Parameters<typeof startClient>[1]; bob2?: Parameters<typeof startClient>[1] } = {}) {
  const alice = await startClient(uniqueUser('alice'));
  const bobId = uniqueUser('bob');
  const bob1 = await startClient(bobId, options.bob1);
  const bob2 = await startClient(bobId, options.bob2);
  return { alice, bob1, bob2, bobId };
}

/** Alice calls Bob; resolves once both of Bob's devices have the call ringing. */
async function ringBoth(alice: CallClient, bob1: CallClient, bob2: CallClient, bobId: string) {
  const in1 = nextEvent<IncomingCallEvent>(bob1, 'incomingcall');
  const in2 = nextEvent<IncomingCallEvent>(bob2, 'incomingcall');
  const out = alice.callUser(bobId);
  const [inc1, inc2] = [(await in1).call, (await in2).call];
  return { out, inc1, inc2 };
}

afterEach(stopClients);

describe('several devices per user', () => {
  it('a second client of a user is a second device with its own peer id', async () => {
    const { bob1, bob2, bobId } = await alicePlusTwoBobs();
    expect(bob1.peerId).to.equal(bobId);
    expect(bob2.peerId).to.equal(`${bobId} ${bob2.deviceTag}`);
    expect(bob2.connectionState).to.equal('connected');
  });

  it('both devices ring; the second answers, the first ends otherDeviceAnswered; the caller sees one call', async () => {
    const { alice, bob1, bob2, bobId } = await alicePlusTwoBobs();
    const { out, inc1, inc2 } = await ringBoth(alice, bob1, bob2, bobId);
    expect(inc1.id).to.equal(out.id);
    expect(inc2.id).to.equal(out.id);
    expect([inc1.state, inc2.state]).to.deep.equal(['ringing', 'ringing']);
    expect(inc1.remoteUserId).to.equal(alice.userId);
    await waitFor(() => out.state === 'ringing', 10_000, 'caller ringing');
    expect(alice.activeCalls).to.deep.equal([out]);

    const events: string[] = [];
    for (const t of ['answered', 'established', 'ended']) out.addEventListener(t, () => events.push(t));
    const established = Promise.all([nextEvent(out, 'established', 15_000), nextEvent(inc2, 'established', 15_000)]);
    const ended1 = nextEvent(inc1, 'ended');
    inc2.answer();
    await established;
    await ended1;
    expect(inc1.details.endCause).to.equal('otherDeviceAnswered');
    expect(inc1.details.error).to.equal(undefined);
    expect(bob1.activeCalls).to.have.length(0);
    expect(() => inc1.answer()).to.throw(CallingError);
    expect(events).to.deep.equal(['answered', 'established']);
    expect(await peakAudioLevel(out.remoteStream!)).to.be.greaterThan(0.01);
    expect(alice.activeCalls).to.deep.equal([out]);

    const ended = Promise.all([nextEvent(out, 'ended'), nextEvent(inc2, 'ended')]);
    out.hangup();
    await ended;
    expect([out.details.endCause, inc2.details.endCause]).to.deep.equal(['hungUp', 'hungUp']);
    expect(events).to.deep.equal(['answered', 'established', 'ended']);

    // One record, the answering device's leg, ended by the hang-up (not by the device that stopped ringing).
    await waitFor(async () => (await record(alice.userId, out.id))?.endCause != null, 10_000, 'record ended');
    const rows = await recordsOf(alice.userId, out.id);
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ caller: alice.userId, callee: bobId, calleePeer: bob2.peerId, endCause: 'hungUp' });
    expect(rows[0]!.establishedAt).to.be.a('number');
  });

  it('a device in another tab rings too, and either device can take the call', async () => {
    const alice = await startClient(uniqueUser('alice'));
    const bobId = uniqueUser('bob');
    const remote = await RemotePage.open();
    try {
      await remote.run(`await remote.start(${JSON.stringify(bobId)}); return true;`);
      const local = await startClient(bobId);
      expect(local.peerId).to.equal(`${bobId} ${local.deviceTag}`); // the tab came first and has the plain id

      // The other tab answers: this page's device stops ringing with otherDeviceAnswered.
      const localIncoming = nextEvent<IncomingCallEvent>(local, 'incomingcall');
      const first = alice.callUserVideo(bobId);
      const inc = (await localIncoming).call;
      await remote.run('await remote.waitFor(() => remote.call?.state === "ringing"); return true;');
      const localEnded = nextEvent(inc, 'ended', 15_000);
      const firstUp = nextEvent(first, 'established', 15_000); // listening first: it can beat the command's reply
      await remote.run('remote.call.answer({ video: false }); return true;');
      await firstUp;
      await localEnded;
      expect(inc.details.endCause).to.equal('otherDeviceAnswered');
      expect(await remote.run('await remote.waitFor(() => remote.call.state === "established"); return remote.call.id;')).to.equal(first.id);
      const hungUp = nextEvent(first, 'ended');
      await remote.run('remote.call.hangup(); return true;');
      await hungUp;
      expect(first.details.endCause).to.equal('hungUp');

      // This time this page's device answers: the tab's call ends with otherDeviceAnswered.
      const again = nextEvent<IncomingCallEvent>(local, 'incomingcall');
      const second = alice.callUser(bobId);
      const inc2 = (await again).call;
      await remote.run(`await remote.waitFor(() => remote.call?.id === ${JSON.stringify(second.id)} && remote.call.state === "ringing"); return true;`);
      const up = Promise.all([nextEvent(second, 'established', 15_000), nextEvent(inc2, 'established', 15_000)]);
      inc2.answer();
      await up;
      expect(await remote.run('await remote.waitFor(() => remote.call.state === "ended"); return remote.call.details.endCause;'))
        .to.equal('otherDeviceAnswered');
      second.hangup();
      await waitFor(async () => (await record(alice.userId, second.id))?.endCause === 'hungUp', 10_000, 'record hungUp');
      expect((await record(alice.userId, second.id))?.calleePeer).to.equal(local.peerId);
      expect((await record(alice.userId, first.id))?.calleePeer).to.equal(bobId);
    } finally {
      await remote.close();
    }
  });

  it('a decline on one device leaves the others ringing; the caller sees denied once every device declined', async () => {
    const { alice, bob1, bob2, bobId } = await alicePlusTwoBobs();
    const { out, inc1, inc2 } = await ringBoth(alice, bob1, bob2, bobId);
    await waitFor(() => out.state === 'ringing', 10_000, 'caller ringing');
    inc1.hangup();
    expect(inc1.details.endCause).to.equal('denied');
    await new Promise((r) => setTimeout(r, 1000));
    expect(inc2.state).to.equal('ringing');
    expect(out.state).to.equal('ringing');

    const ended = Promise.all([nextEvent(out, 'ended'), nextEvent(inc2, 'ended')]);
    inc2.hangup();
    await ended;
    expect(out.details.endCause).to.equal('denied');
    expect(inc2.details.endCause).to.equal('denied');
    await waitFor(async () => (await record(alice.userId, out.id))?.endCause === 'denied', 10_000, 'record denied');
    expect(await recordsOf(alice.userId, out.id)).to.have.length(1);

    // The device that declined first may still answer the next call.
    const next = await ringBoth(alice, bob1, bob2, bobId);
    const up = nextEvent(next.out, 'established', 15_000);
    const other = nextEvent(next.inc2, 'ended');
    next.inc1.hangup();
    await new Promise((r) => setTimeout(r, 300));
    next.inc2.answer();
    await up;
    await other.catch(() => undefined);
    expect(next.inc2.state).to.equal('established');
    expect(next.inc1.details.endCause).to.equal('denied');
  });

  it('with declineOnAllDevices a decline stops every device and the caller sees denied', async () => {
    const { alice, bob1, bob2, bobId } = await alicePlusTwoBobs({ bob1: { declineOnAllDevices: true }, bob2: { declineOnAllDevices: true } });
    const { out, inc1, inc2 } = await ringBoth(alice, bob1, bob2, bobId);
    await waitFor(() => out.state === 'ringing', 10_000, 'caller ringing');
    const ended = Promise.all([nextEvent(out, 'ended'), nextEvent(inc2, 'ended')]);
    inc1.hangup();
    await ended;
    expect(out.details.endCause).to.equal('denied');
    expect(inc1.details.endCause).to.equal('denied');
    expect(inc2.details.endCause).to.equal('denied');
    expect(bob2.activeCalls).to.have.length(0);
    await waitFor(async () => (await record(alice.userId, out.id))?.endCause === 'denied', 10_000, 'record denied');
  });

  it('the caller canceling ends the call canceled on every device', async () => {
    const { alice, bob1, bob2, bobId } = await alicePlusTwoBobs();
    const { out, inc1, inc2 } = await ringBoth(alice, bob1, bob2, bobId);
    const ended = Promise.all([nextEvent(inc1, 'ended'), nextEvent(inc2, 'ended')]);
    out.hangup();
    await ended;
    expect([out.details.endCause, inc1.details.endCause, inc2.details.endCause]).to.deep.equal(['canceled', 'canceled', 'canceled']);
    await waitFor(async () => (await record(alice.userId, out.id))?.endCause === 'canceled', 10_000, 'record canceled');
  });

  it('nobody answering ends noAnswer on the caller and on every device', async () => {
    const bobId = uniqueUser('bob');
    const [bob1, bob2] = [await startClient(bobId), await startClient(bobId)];
    const short = await startClient(uniqueUser('carol'), { noAnswerTimeout: 2000 });
    const in1 = nextEvent<IncomingCallEvent>(bob1, 'incomingcall');
    const in2 = nextEvent<IncomingCallEvent>(bob2, 'incomingcall');
    const out = short.callUser(bobId);
    const calls: Call[] = [(await in1).call, (await in2).call];
    await Promise.all([nextEvent(out, 'ended', 10_000), ...calls.map((c) => (c.state === 'ended' ? Promise.resolve() : nextEvent(c, 'ended', 10_000)))]);
    expect([out.details.endCause, ...calls.map((c) => c.details.endCause)]).to.deep.equal(['noAnswer', 'noAnswer', 'noAnswer']);
  });

  it('a user with no device online is unavailable quickly, with a record', async () => {
    const alice = await startClient(uniqueUser('alice'));
    const call = alice.callUser(uniqueUser('nobody'));
    await nextEvent(call, 'ended', 10_000);
    expect(call.details.endCause).to.equal('unavailable');
    expect(call.details.error?.domain).to.equal('network');
    await waitFor(async () => (await record(alice.userId, call.id))?.endCause === 'unavailable', 10_000, 'record unavailable');
  });

  it('a device that went offline is not rung; a tab closed while ringing does not stop the other device', async () => {
    const { alice, bob1, bob2, bobId } = await alicePlusTwoBobs();
    await bob1.stop();
    const incoming = nextEvent<IncomingCallEvent>(bob2, 'incomingcall');
    const out = alice.callUser(bobId);
    const inc = (await incoming).call;
    const up = Promise.all([nextEvent(out, 'established', 15_000), nextEvent(inc, 'established', 15_000)]);
    inc.answer();
    await up;
    const done = nextEvent(out, 'ended');
    out.hangup();
    await done;

    // A device in another tab rings with this one, then its tab closes: that device leaves the ringing, declining for
    // itself only even where a decline there would decline everywhere (declineOnAllDevices): this one still rings.
    const remote = await RemotePage.open();
    let closed = false;
    try {
      await remote.run(`await remote.start(${JSON.stringify(bobId)}, { declineOnAllDevices: true }); return true;`);
      const again = nextEvent<IncomingCallEvent>(bob2, 'incomingcall');
      const call = alice.callUser(bobId);
      const inc2 = (await again).call;
      await remote.run('await remote.waitFor(() => remote.call?.state === "ringing"); return true;');
      await remote.close();
      closed = true;
      await new Promise((r) => setTimeout(r, 500));
      expect(call.state).to.equal('ringing');
      expect(inc2.state).to.equal('ringing');
      const up2 = Promise.all([nextEvent(call, 'established', 15_000), nextEvent(inc2, 'established', 15_000)]);
      inc2.answer();
      await up2;
      call.hangup();
    } finally {
      if (!closed) await remote.close();
    }
  });
});

describe('calls placed from a further device', () => {
  afterEach(stopClients);

  it('are recorded under the user id, and the device ends them', async () => {
    const aliceId = uniqueUser('alice');
    await startClient(aliceId);
    const tablet = await startClient(aliceId);
    expect(tablet.peerId).to.equal(`${aliceId} ${tablet.deviceTag}`);
    const bob = await startClient(uniqueUser('bob'));
    const incoming = nextEvent<IncomingCallEvent>(bob, 'incomingcall');
    const out = tablet.callUser(bob.userId);
    const inc = (await incoming).call;
    expect(inc.remoteUserId).to.equal(aliceId);
    const up = Promise.all([nextEvent(out, 'established', 15_000), nextEvent(inc, 'established', 15_000)]);
    inc.answer();
    await up;
    const ended = nextEvent(inc, 'ended');
    out.hangup();
    await ended;
    await waitFor(async () => (await record(aliceId, out.id))?.endCause === 'hungUp', 10_000, 'record hungUp');
    expect(await record(aliceId, out.id)).to.include({ caller: aliceId, callee: bob.userId, calleePeer: bob.userId });
  });
});

describe('callers that dial the plain user id', () => {
  afterEach(stopClients);

  it('reach a device of the user when the device with the plain id is offline (a service, an older client)', async () => {
    const bobId = uniqueUser('bob');
    const bob1 = await startClient(bobId);
    const bob2 = await startClient(bobId);
    await bob1.stop(); // only `<bobId> <tag>` is online now

    // A bare PeerJS peer speaking the call protocol, as a service or an older client does: one invite, to `bobId`.
    const oldId = uniqueUser('old');
    const server = new URL(await callingServer());
    const token = await tokenFor(oldId)();
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const peer = new Peer(oldId, {
      host: server.hostname, port: Number(server.port), path: '/peerjs', secure: false, key: 'peerjs', debug: 0,
      config: { iceServers: [] }, token,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        peer.once('open', () => resolve());
        peer.once('error', reject);
      });
      const callId = crypto.randomUUID();
      const incoming = nextEvent<IncomingCallEvent>(bob2, 'incomingcall');
      const invite = { v: 1, type: 'invite', callId, from: oldId, to: bobId, callType: 'user', video: false, headers: {} };
      const data = peer.connect(bobId, { reliable: true, serialization: 'raw', metadata: invite });
      const media = peer.call(bobId, stream, { metadata: { callId } });
      const answered = new Promise<void>((resolve) => data.on('data', (d) => { if (String(d).includes('"answer"')) resolve(); }));
      const remote = new Promise<MediaStream>((resolve) => media.on('stream', resolve));
      const inc = (await incoming).call;
      expect(inc.remoteUserId).to.equal(oldId);
      const established = nextEvent(inc, 'established', 15_000);
      inc.answer();
      await answered;
      await established;
      expect(await peakAudioLevel(await remote)).to.be.greaterThan(0.01);
      const ended = nextEvent(inc, 'ended');
      data.send(JSON.stringify({ v: 1, type: 'hangup', callId, reason: 'hungUp' }));
      await ended;
      expect(inc.details.endCause).to.equal('hungUp');
    } finally {
      for (const t of stream.getTracks()) t.stop();
      peer.destroy();
    }
  });
});

describe('device ids', () => {
  afterEach(stopClients);

  it('a second connection with the same device id is refused with a signalling error', async () => {
    const bobId = uniqueUser('bob');
    const phone = await startClient(bobId, { deviceId: 'phone' });
    expect(phone.peerId).to.equal(`${bobId} phone`);
    const twin = new CallClient({ userId: bobId, server: await callingServer(), token: tokenFor(bobId), deviceId: 'phone' });
    const error = await startRefused(twin);
    expect(error.domain).to.equal('signalling');
    expect(error.code).to.equal('unavailable-id');
    expect(twin.connectionState).to.equal('disconnected');
    expect(phone.connectionState).to.equal('connected');
  });

  it('a bad device id is an argument error', async () => {
    const server = await callingServer();
    for (const deviceId of ['', 'a b', 'x'.repeat(33), 'tab-1']) {
      expect(() => new CallClient({ userId: 'bob', server, deviceId })).to.throw(CallingError).with.property('code', 'invalid-device-id');
    }
  });

  it("the server refuses a device of someone else's user id, and devices of reserved ids", async () => {
    const server = (await callingServer()).replace(/^http/, 'ws');
    const first = async (id: string, token: string) => {
      const ws = new WebSocket(`${server}/peerjs/peerjs?key=peerjs&id=${encodeURIComponent(id)}&token=${token}`);
      const msg = await new Promise<string>((resolve) => ws.addEventListener('message', (e) => resolve(String(e.data)), { once: true }));
      ws.close();
      return JSON.parse(msg) as { type: string; payload?: { msg?: string } };
    };
    const bobId = uniqueUser('bob');
    expect(await first(`${bobId} tab1`, await tokenFor(uniqueUser('mallory'))())).to.deep.equal(
      { type: 'ERROR', payload: { msg: 'unauthorized: The token was issued for another user id.' } },
    );
    expect((await first('calling-gateway tab1', await tokenFor('calling-gateway', { variant: 'user-style' })())).payload?.msg)
      .to.equal('unauthorized: This id is reserved for the calling service.');
    expect((await first(`${bobId} a-b`, await tokenFor(bobId)())).payload?.msg).to.match(/^unauthorized: The peer id is not/);
    expect((await first(`${bobId} tab1`, await tokenFor(bobId)())).type).to.equal('OPEN');
  });
});
