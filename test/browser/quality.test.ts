import { expect } from '@open-wc/testing';
import type { CallQualityWarningEvent, IncomingCallEvent } from '../../src/core/index.js';
import { nextEvent, startClient, stopClients, uniqueUser, waitFor } from './helpers.js';

afterEach(stopClients);

describe('call quality', () => {
  it('getStats() summarises the media path, and a dead microphone raises and clears warnings on both sides', async () => {
    const opts = { qualityInterval: 500 };
    const [alice, bob] = await Promise.all([startClient(uniqueUser('alice'), opts), startClient(uniqueUser('bob'), opts)]);
    bob.addEventListener('incomingcall', (e: IncomingCallEvent) => e.call.answer());
    const out = alice.callUser(bob.userId);
    await nextEvent(out, 'established');
    const inc = bob.activeCalls[0];
    await waitFor(() => inc.state === 'established', 5000, 'callee established');

    await new Promise((r) => setTimeout(r, 1200));
    const stats = await out.getStats();
    expect(stats?.audioCodec).to.equal('audio/opus');
    expect(stats?.rttMs).to.be.a('number').and.to.be.lessThan(300);
    expect(stats?.audioPacketsReceived).to.be.greaterThan(0);
    expect(stats?.packetLossPercent ?? 0).to.be.lessThan(3);
    expect(out.qualityWarnings.size).to.equal(0);

    const aliceWarnings: string[] = [];
    const bobWarnings: string[] = [];
    out.addEventListener('qualitywarning', (e: CallQualityWarningEvent) => aliceWarnings.push(`${e.active ? '+' : '-'}${e.name}`));
    inc.addEventListener('qualitywarning', (e: CallQualityWarningEvent) => bobWarnings.push(`${e.active ? '+' : '-'}${e.name}`));

    // Bob's microphone goes dead without him muting: silence leaves his side, nothing arrives at Alice's.
    const track = inc.localStream!.getAudioTracks()[0];
    track.enabled = false;
    await waitFor(() => bobWarnings.includes('+micNotWorking'), 12_000, 'micNotWorking on the callee');
    expect(inc.qualityWarnings.has('micNotWorking')).to.equal(true);

    // The microphone comes back: the warning clears.
    track.enabled = true;
    await waitFor(() => bobWarnings.includes('-micNotWorking'), 12_000, 'micNotWorking cleared');

    // Muting on purpose is not a broken microphone.
    inc.mute();
    await new Promise((r) => setTimeout(r, 6500));
    expect(inc.qualityWarnings.has('micNotWorking')).to.equal(false);
    void aliceWarnings;
  });
});
