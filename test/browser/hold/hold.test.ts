// Hold and call waiting in the SDK (issue #16): real clients on the run's calling server, real WebRTC media in
// Chromium; what each side receives is measured with Web Audio.
import { expect } from '@open-wc/testing';
import { CallingError, type Call, type CallClient, type CallHoldChangeEvent, type IncomingCallEvent } from '../../../src/core/index.js';
import { listenTo, nextEvent, startClient, stopClients, toneMic, uniqueUser, waitFor } from '../helpers.js';

// Levels of a received tone at full scale 0.3 (see `toneMic`): well above LOUD; silence stays far below QUIET.
const LOUD = 0.05;
const QUIET = 0.01;

/**
 * What arrives on a call's received audio over `ms`: measured on an enabled clone of the received track, so that a
 * held call's locally disabled track cannot hide media that flows. (Once packets stop, Chromium's Web Audio source
 * may keep repeating the last chunk of a steady tone, so silence while held is shown with `packetsIn` + `heard`.)
 */
async function received(call: Call, ms = 1200): Promise<{ peak: number; dominantHz: number }> {
  const tracks = call.remoteStream!.getAudioTracks().map((t) => {
    const c = t.clone();
    c.enabled = true;
    return c;
  });
  try {
    return await listenTo(new MediaStream(tracks), ms);
  } finally {
    for (const t of tracks) t.stop();
  }
}

/** Media flows to `call` again: packets arrive and the user hears the other side. */
async function flowsTo(call: Call, what: string): Promise<void> {
  await waitFor(async () => (await packetsIn(call, 400)) > 10 && (await heard(call, 400)) > LOUD, 6000, what);
}

/** Audio RTP packets the call receives over `ms` (its own stats): 0 when nothing is sent to it. */
async function packetsIn(call: Call, ms = 800): Promise<number> {
  const before = (await call.getStats())!.audioPacketsReceived;
  await new Promise((r) => setTimeout(r, ms));
  return (await call.getStats())!.audioPacketsReceived - before;
}

/** The level the user hears: the received stream as the call leaves it (disabled tracks while held). */
async function heard(call: Call, ms = 800): Promise<number> {
  return (await listenTo(call.remoteStream!, ms)).peak;
}

async function client(name: string, hz: number, options: Parameters<typeof startClient>[1] = {}): Promise<CallClient> {
  return startClient(uniqueUser(name), { getUserMedia: toneMic(hz), ...options });
}

async function establish(from: CallClient, to: CallClient): Promise<{ out: Call; inc: Call }> {
  const incoming = nextEvent<IncomingCallEvent>(to, 'incomingcall');
  const out = from.callUser(to.userId);
  const inc = (await incoming).call;
  const established = Promise.all([nextEvent(out, 'established'), nextEvent(inc, 'established')]);
  inc.answer();
  await established;
  return { out, inc };
}

function holdLog(call: Call): Array<{ onHold: boolean; by: string }> {
  const log: Array<{ onHold: boolean; by: string }> = [];
  call.addEventListener('holdchange', (e: CallHoldChangeEvent) => {
    expect(e.call).to.equal(call);
    log.push({ onHold: e.onHold, by: e.by });
  });
  return log;
}

afterEach(stopClients);

describe('hold (app to app)', () => {
  it('the caller holds: no audio either way, the held side hears the hold tone, timers run; unhold brings audio back', async () => {
    const alice = await client('alice', 600);
    const bob = await client('bob', 1000);
    const { out, inc } = await establish(alice, bob);
    const a = holdLog(out);
    const b = holdLog(inc);

    // Before: each side receives the other's tone.
    expect((await received(inc)).dominantHz).to.be.closeTo(600, 30);
    expect((await received(out)).dominantHz).to.be.closeTo(1000, 30);

    const bobTold = nextEvent<CallHoldChangeEvent>(inc, 'holdchange');
    out.hold();
    expect(out.isOnHold).to.equal(true);
    expect(out.isRemoteOnHold).to.equal(false);
    expect(a).to.deep.equal([{ onHold: true, by: 'local' }]);
    await bobTold;
    expect(b).to.deep.equal([{ onHold: true, by: 'remote' }]);
    expect(inc.isRemoteOnHold).to.equal(true);
    expect(inc.isOnHold).to.equal(false);
    out.hold(); // holding a held call changes nothing
    expect(a).to.have.length(1);

    // Let what was in flight drain, then: nothing arrives on either leg, and nothing is heard.
    await new Promise((r) => setTimeout(r, 600));
    expect(await packetsIn(inc), 'bob receives nothing').to.equal(0);
    expect(await packetsIn(out), 'alice receives nothing').to.equal(0);
    expect(await heard(inc), 'bob hears silence from the call').to.be.below(QUIET);
    expect(await heard(out), 'alice hears silence from the call').to.be.below(QUIET);
    // The held side hears the soft hold tone; the holder hears nothing from the SDK.
    expect(bob.audioController.currentSound).to.equal('onHold');
    expect(alice.audioController.currentSound).to.equal(null);
    // The call goes on: established, duration counting, no time out.
    expect(out.state).to.equal('established');
    expect(inc.state).to.equal('established');
    const d = out.details.duration;
    await new Promise((r) => setTimeout(r, 1100));
    expect(out.details.duration).to.be.greaterThan(d);

    const bobResumed = nextEvent<CallHoldChangeEvent>(inc, 'holdchange');
    out.unhold();
    await bobResumed;
    expect(a).to.deep.equal([{ onHold: true, by: 'local' }, { onHold: false, by: 'local' }]);
    expect(b).to.deep.equal([{ onHold: true, by: 'remote' }, { onHold: false, by: 'remote' }]);
    expect(inc.isRemoteOnHold).to.equal(false);
    expect(bob.audioController.currentSound).to.equal(null);
    await flowsTo(inc, 'bob hears alice again');
    await flowsTo(out, 'alice hears bob again');
    out.hangup();
  });

  it('the callee holds, and both hold at once: media comes back only when neither holds', async () => {
    const alice = await client('alice', 600);
    const bob = await client('bob', 1000);
    const { out, inc } = await establish(alice, bob);
    const a = holdLog(out);

    const aliceTold = nextEvent(out, 'holdchange');
    inc.hold();
    await aliceTold;
    expect(a).to.deep.equal([{ onHold: true, by: 'remote' }]);
    expect(alice.audioController.currentSound).to.equal('onHold');

    // Alice holds too (e.g. to take another call): no hold tone for anyone now.
    out.hold();
    expect(alice.audioController.currentSound).to.equal(null);
    const aliceResumedByBob = nextEvent(out, 'holdchange');
    inc.unhold();
    await aliceResumedByBob;
    expect(a.at(-1)).to.deep.equal({ onHold: false, by: 'remote' });
    await new Promise((r) => setTimeout(r, 600));
    expect(await packetsIn(out), 'alice still holds: nothing flows').to.equal(0);
    expect(await packetsIn(inc)).to.equal(0);
    expect(await heard(inc)).to.be.below(QUIET);

    out.unhold();
    await flowsTo(out, 'alice hears bob');
    await flowsTo(inc, 'bob hears alice');
    out.hangup();
  });

  it('hold() and unhold() before the call is established are capability errors; an ended call cannot be held', async () => {
    const alice = await client('alice', 600);
    const bob = await client('bob', 1000, { audio: false });
    const incoming = nextEvent<IncomingCallEvent>(bob, 'incomingcall');
    const out = alice.callUser(bob.userId);
    const inc = (await incoming).call;
    for (const call of [out, inc]) {
      for (const fn of [() => call.hold(), () => call.unhold()]) {
        try {
          fn();
          expect.fail('no error');
        } catch (e) {
          expect(e).to.be.instanceOf(CallingError);
          expect((e as CallingError).domain).to.equal('capability');
        }
      }
    }
    expect(out.isOnHold).to.equal(false);
    const ended = nextEvent(inc, 'ended');
    out.hangup();
    await ended;
    expect(() => out.hold()).to.throw(CallingError);
  });
});

describe('call waiting (app to app)', () => {
  it('a second call rings with the waiting tone; answering holds the first; unhold swaps; hanging up leaves the other held', async () => {
    const alice = await client('alice', 600);
    const bob = await client('bob', 1000);
    const carol = await client('carol', 1500);
    const first = await establish(alice, bob);

    const incoming = nextEvent<IncomingCallEvent>(bob, 'incomingcall');
    const fromCarol = carol.callUser(bob.userId);
    const second = (await incoming).call;
    expect(second.state).to.equal('ringing');
    expect(bob.activeCalls).to.have.length(2);
    expect(bob.audioController.currentSound).to.equal('callWaiting');

    const established = Promise.all([nextEvent(second, 'established'), nextEvent(fromCarol, 'established')]);
    const aliceHeld = nextEvent<CallHoldChangeEvent>(first.out, 'holdchange');
    second.answer();
    expect(first.inc.isOnHold, 'the first call is held before the second is answered').to.equal(true);
    await Promise.all([established, aliceHeld]);
    expect(first.out.isRemoteOnHold).to.equal(true);
    expect(bob.activeCalls.filter((c) => !c.isOnHold)).to.deep.equal([second]);
    await waitFor(async () => (await received(second, 600)).dominantHz > 1400, 5000, 'bob hears carol');
    await new Promise((r) => setTimeout(r, 400));
    expect(await packetsIn(first.inc), 'nothing from alice while she is held').to.equal(0);
    expect(await heard(first.inc)).to.be.below(QUIET);

    // Swap: resuming the first call holds the second.
    const carolHeld = nextEvent(fromCarol, 'holdchange');
    first.inc.unhold();
    expect(second.isOnHold).to.equal(true);
    expect(first.inc.isOnHold).to.equal(false);
    await carolHeld;
    expect(fromCarol.isRemoteOnHold).to.equal(true);
    await flowsTo(first.inc, 'bob hears alice again');
    expect((await received(first.inc)).dominantHz).to.be.closeTo(600, 30);

    // A third call finds bob at maxCalls (2): declined as busy, bob's app never sees it.
    const dave = await client('dave', 700, { audio: false });
    const seen: Call[] = [];
    bob.addEventListener('incomingcall', (e) => seen.push(e.call));
    const third = dave.callUser(bob.userId);
    await nextEvent(third, 'ended');
    expect(third.details.endCause).to.equal('denied');
    expect(seen).to.deep.equal([]);
    expect(bob.activeCalls).to.have.length(2);

    // Hanging up the active call (alice) leaves carol's held: no surprise audio.
    const aliceEnded = nextEvent(first.out, 'ended');
    first.inc.hangup();
    await aliceEnded;
    expect(bob.activeCalls).to.deep.equal([second]);
    expect(second.isOnHold).to.equal(true);
    expect(second.state).to.equal('established');
    await new Promise((r) => setTimeout(r, 400));
    expect(await packetsIn(second)).to.equal(0);
    second.unhold();
    await flowsTo(second, 'bob hears carol after resuming');
    second.hangup();
  });

  it('maxCalls: 1 declines a second call at once (the caller sees denied)', async () => {
    const alice = await client('alice', 600);
    const bob = await client('bob', 1000, { maxCalls: 1, audio: false });
    const carol = await client('carol', 1500, { audio: false });
    expect(bob.maxCalls).to.equal(1);
    const first = await establish(alice, bob);
    const second = carol.callUser(bob.userId);
    await nextEvent(second, 'ended');
    expect(second.details.endCause).to.equal('denied');
    expect(bob.activeCalls).to.deep.equal([first.inc]);
    expect(first.inc.isOnHold).to.equal(false);
    first.out.hangup();
  });

  it('maxCalls must be a whole number of at least 1', async () => {
    for (const maxCalls of [0, 1.5, -1, Number.NaN]) {
      try {
        await startClient(uniqueUser('x'), { maxCalls });
        expect.fail(`maxCalls ${maxCalls} was accepted`);
      } catch (e) {
        expect((e as CallingError).domain).to.equal('argument');
      }
    }
  });
});
