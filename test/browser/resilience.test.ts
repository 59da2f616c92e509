import { expect } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import type { Call, ConnectionStateChangeEvent, IncomingCallEvent } from '../../src/core/index.js';
import { listenTo, nextEvent, peakAudioLevel, startClient, stopClients, uniqueUser, waitFor } from './helpers.js';

afterEach(stopClients);

describe('signalling server restart', () => {
  it('keeps an established call, reconnects both clients within seconds, and a new call works afterwards', async () => {
    // A server of its own: restarting the shared one would disturb test files running in parallel.
    const server = await executeServerCommand<string, object>('scratch-server', { action: 'start' });
    const [alice, bob] = await Promise.all([startClient(uniqueUser('alice'), { server }), startClient(uniqueUser('bob'), { server })]);
    bob.addEventListener('incomingcall', (e: IncomingCallEvent) => e.call.answer());
    const call = alice.callUser(bob.userId);
    await nextEvent(call, 'established');
    const states: string[] = [];
    alice.addEventListener('connectionstatechange', (e: ConnectionStateChangeEvent) => states.push(e.state));

    await executeServerCommand('scratch-server', { action: 'restart', downMs: 500 });
    const t0 = performance.now();
    await waitFor(() => alice.connectionState === 'connected' && bob.connectionState === 'connected' && states.includes('reconnecting'), 15_000, 'both reconnected');
    const back = performance.now() - t0;
    expect(states).to.deep.equal(['reconnecting', 'connected']);
    expect(back).to.be.lessThan(10_000); // the goal is 5 s; `npm run bench` would be the place to time it

    // Media never depended on the server.
    expect(call.state).to.equal('established');
    expect(await peakAudioLevel(call.remoteStream!)).to.be.greaterThan(0.01);

    // The call can still be hung up, and a new one placed.
    const ended = nextEvent(bob.activeCalls[0], 'ended');
    call.hangup();
    await ended;
    const again = alice.callUser(bob.userId);
    await nextEvent(again, 'established');
    again.hangup();
  });
});

describe('page reload', () => {
  it('a user whose tab closed is back online under the same id within seconds, without "id taken"', async () => {
    const userId = uniqueUser('reloader');
    const { RemotePage } = await import('./helpers.js');
    const first = await RemotePage.open();
    await first.run(`await remote.start(${JSON.stringify(userId)}); return true;`);
    await first.close(); // no unload handlers, as on a crash-free reload
    const second = await RemotePage.open();
    try {
      const t0 = performance.now();
      await second.run(`await remote.start(${JSON.stringify(userId)}); return true;`);
      expect(performance.now() - t0).to.be.lessThan(5000);
      // And the reloaded user can be called.
      const alice = await startClient(uniqueUser('alice'));
      await second.run('remote.client.addEventListener("incomingcall", (e) => e.call.answer()); return true;');
      const call = alice.callUser(userId);
      await nextEvent(call, 'established');
      call.hangup();
    } finally {
      await second.close();
    }
  });
});

describe('media path cut', () => {
  // All media is relayed through a real TURN server (coturn) that the test freezes and thaws.
  async function relayedPair(disconnectGrace: number, server?: string) {
    const turn = await executeServerCommand<RTCIceServer, object>('turn-server', { action: 'start' });
    const opts = { iceServers: [turn], iceTransportPolicy: 'relay' as const, disconnectGrace, ...(server ? { server } : {}) };
    const [alice, bob] = await Promise.all([startClient(uniqueUser('alice'), opts), startClient(uniqueUser('bob'), opts)]);
    bob.addEventListener('incomingcall', (e: IncomingCallEvent) => e.call.answer());
    // Setup, not what these tests prove: on a loaded CI machine a call through a relay that was restarted a moment
    // ago once did not connect within 15 s; such a first call is hung up and placed once more (and logged).
    let call = alice.callUser(bob.userId);
    try {
      await nextEvent(call, 'established', 15_000);
    } catch {
      console.log(`relayed call not established within 15 s (state ${call.state}); placing it once more`);
      call.hangup();
      await waitFor(() => bob.activeCalls.length === 0, 5000, 'first call gone');
      call = alice.callUser(bob.userId);
      await nextEvent(call, 'established', 15_000);
    }
    await waitFor(async () => ((await call.getStats())?.audioPacketsReceived ?? 0) > 0, 5000, 'relayed audio packets');
    return { call, inc: bob.activeCalls[0] };
  }
  afterEach(() => executeServerCommand('turn-server', { action: 'stop' }));

  it('a short cut makes the call reconnecting, and it is established again when the network returns', async () => {
    const { call, inc } = await relayedPair(30_000);
    const states: string[] = [];
    call.addEventListener('statechange', () => states.push(call.state));
    // Each event is awaited from before the command that causes it: the command's reply comes back through the test
    // runner, and on a loaded machine ICE can recover before that reply arrives (a listener added only then waits for
    // an event that is already past).
    const cut = nextEvent(call, 'reconnecting', 20_000);
    await executeServerCommand('turn-server', { action: 'pause' });
    await cut;
    await waitFor(() => inc.state === 'reconnecting', 10_000, 'callee reconnecting');
    const back = nextEvent(call, 'established', 20_000);
    await executeServerCommand('turn-server', { action: 'resume' });
    await back;
    await waitFor(() => inc.state === 'established', 10_000, 'callee established again');
    expect(states).to.deep.equal(['reconnecting', 'established']);
    expect(await peakAudioLevel(call.remoteStream!)).to.be.greaterThan(0.01);
  });

  it('a cut that does not heal by itself (TURN server restarted, its allocations lost) is repaired by an ICE restart', async () => {
    const { call, inc } = await relayedPair(30_000);
    const states: string[] = [];
    const calleeStates: string[] = [];
    call.addEventListener('statechange', () => states.push(call.state));
    inc.addEventListener('statechange', () => calleeStates.push(inc.state));
    // A new coturn on the same port knows none of the old relay allocations: the old path is gone for good.
    await executeServerCommand('turn-server', { action: 'restart', downMs: 0 });
    const t0 = performance.now();
    await waitFor(() => states.includes('reconnecting') && calleeStates.includes('reconnecting'), 20_000, 'both reconnecting');
    const cutSeen = performance.now() - t0;
    await waitFor(() => call.state === 'established' && inc.state === 'established', 20_000, 'both established again');
    console.log(`ICE restart: reconnecting after ${Math.round(cutSeen)} ms, established again ${Math.round(performance.now() - t0)} ms after the TURN restart`);
    expect(states).to.deep.equal(['reconnecting', 'established']);
    expect(calleeStates).to.deep.equal(['reconnecting', 'established']);
    // Both sides took part in a restart (the caller offered, the callee answered).
    expect((await call.getStats())?.iceRestarts).to.be.greaterThan(0);
    expect((await inc.getStats())?.iceRestarts).to.be.greaterThan(0);

    await heardBothWaysAndHungUp(call, inc);
  });

  it('a held call stays held on both sides through an ICE restart, and resumes with audio afterwards (#16)', async () => {
    const { call, inc } = await relayedPair(30_000);
    const told = nextEvent(inc, 'holdchange');
    call.hold();
    await told;
    await executeServerCommand('turn-server', { action: 'restart', downMs: 0 });
    await waitFor(() => call.state === 'reconnecting' && inc.state === 'reconnecting', 20_000, 'both reconnecting');
    await waitFor(() => call.state === 'established' && inc.state === 'established', 20_000, 'both established again');
    expect((await call.getStats())?.iceRestarts).to.be.greaterThan(0);
    expect(call.isOnHold).to.equal(true);
    expect(inc.isRemoteOnHold).to.equal(true);
    const before = [(await call.getStats())!.audioPacketsReceived, (await inc.getStats())!.audioPacketsReceived];
    await new Promise((r) => setTimeout(r, 800));
    expect((await call.getStats())!.audioPacketsReceived - before[0], 'still no media to the holder').to.equal(0);
    expect((await inc.getStats())!.audioPacketsReceived - before[1], 'still no media to the held side').to.equal(0);
    const resumed = nextEvent(inc, 'holdchange');
    call.unhold();
    await resumed;
    await waitFor(async () => ((await inc.getStats())?.audioPacketsReceived ?? 0) > before[1], 5000, 'media again');
    await heardBothWaysAndHungUp(call, inc);
  });

  it('signalling and the media path lost together (server and TURN relay restarted) come back, and so does the call', async () => {
    // A server of its own (see 'signalling server restart'): the restart must not disturb other test files.
    const server = await executeServerCommand<string, object>('scratch-server', { action: 'start' });
    const { call, inc } = await relayedPair(40_000, server);
    const states: string[] = [];
    call.addEventListener('statechange', () => states.push(call.state));
    const t0 = performance.now();
    // Signalling stays down past the first restart attempt (~1.5 s after the browser notices the cut, ~6 s).
    await Promise.all([
      executeServerCommand('scratch-server', { action: 'restart', downMs: 8000 }),
      executeServerCommand('turn-server', { action: 'restart', downMs: 0 }),
    ]);
    await waitFor(() => states.includes('reconnecting') && call.state === 'established' && inc.state === 'established', 30_000, 'established again');
    console.log(`signalling + TURN restart: established again after ${Math.round(performance.now() - t0)} ms`);
    expect(states).to.deep.equal(['reconnecting', 'established']);
    await heardBothWaysAndHungUp(call, inc);
  });

  it('a cut that lasts ends the call with failure and a network error on both sides', async () => {
    const { call, inc } = await relayedPair(2000);
    const ended = Promise.all([nextEvent(call, 'ended', 25_000), nextEvent(inc, 'ended', 25_000)]);
    await executeServerCommand('turn-server', { action: 'pause' });
    await ended;
    for (const c of [call, inc]) {
      expect(c.details.endCause).to.equal('failure');
      expect(c.details.error?.domain).to.equal('network');
    }
  });
});

/**
 * After a recovery: each side hears the other's (fake, beeping) microphone again, and the call-control channel works
 * again too — the caller's hang-up reaches the callee as a hang-up.
 */
async function heardBothWaysAndHungUp(call: Call, inc: Call): Promise<void> {
  const [callerHears, calleeHears] = await Promise.all([listenTo(call.remoteStream!), listenTo(inc.remoteStream!)]);
  expect(callerHears.peak).to.be.greaterThan(0.01);
  expect(calleeHears.peak).to.be.greaterThan(0.01);
  const ended = nextEvent(inc, 'ended');
  call.hangup();
  await ended;
  expect(inc.details.endCause).to.equal('hungUp');
}
