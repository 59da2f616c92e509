import { expect } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import type { IncomingCallEvent } from '../../src/core/index.js';
import { nextEvent, startClient, stopClients, uniqueUser } from './helpers.js';

afterEach(stopClients);
afterEach(() => executeServerCommand('page-block', {}));

// A file of its own: its page has not fetched the ICE recovery chunk (src/core/recovery-chunk.ts) before this test.
describe('ICE recovery chunk', () => {
  it('a call whose ICE recovery chunk cannot load fails at once with a network error, and the next call fetches it again', async () => {
    const [alice, bob] = await Promise.all([startClient(uniqueUser('alice')), startClient(uniqueUser('bob'))]);
    bob.addEventListener('incomingcall', (e: IncomingCallEvent) => e.call.answer());
    await executeServerCommand('page-block', { part: 'recovery-chunk' });
    const t0 = performance.now();
    const call = alice.callUser(bob.userId);
    await nextEvent(call, 'ended', 10_000);
    expect(call.details.endCause).to.equal('failure');
    expect(call.details.error?.domain).to.equal('network');
    expect(call.details.error?.code).to.equal('chunk-load-failed');
    expect(performance.now() - t0, 'well before the 15 s establish timeout').to.be.lessThan(5000);

    await executeServerCommand('page-block', {});
    const again = alice.callUser(bob.userId);
    await nextEvent(again, 'established', 15_000);
    again.hangup();
  });
});
