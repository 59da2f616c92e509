// Runs in a browser that refuses camera and microphone (see web-test-runner.config.mjs, group "media-denied").
import { expect } from '@open-wc/testing';
import { startClient, stopClients, uniqueUser, nextEvent } from './helpers.js';

afterEach(stopClients);

describe('camera and microphone refused', () => {
  it('ends the call with a media failure, sends nothing and leaves nothing open', async () => {
    const [alice, bob] = await Promise.all([startClient(uniqueUser('alice')), startClient(uniqueUser('bob'))]);
    let rang = false;
    bob.addEventListener('incomingcall', () => { rang = true; });
    const call = alice.callUserVideo(bob.userId);
    await nextEvent(call, 'ended', 5000);
    expect(call.details.endCause).to.equal('failure');
    expect(call.details.error?.domain).to.equal('media');
    expect(call.details.error?.code).to.equal('permission-denied');
    expect(call.localStream).to.equal(null);
    await new Promise((r) => setTimeout(r, 300));
    expect(rang).to.equal(false);
    expect(alice.activeCalls).to.have.length(0);
  });
});
