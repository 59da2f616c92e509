// Token auth from a real CallClient in Chromium: the refusal matrix, a fresh token per connect, refresh before expiry,
// and the server's call records for real calls.
import { expect } from '@open-wc/testing';
import { CallClient, CallingError, type CallClientOptions } from '../../../src/core/index.js';
import { callingServer, nextEvent, startClient, stopClients, tokenFor, uniqueUser, waitFor } from '../helpers.js';

async function refusal(userId: string, token: CallClientOptions['token']): Promise<CallingError> {
  const client = new CallClient({ userId, server: await callingServer(), ...(token === undefined ? {} : { token }) });
  client.setSupportCalling(true);
  const started = performance.now();
  let error: unknown;
  try {
    await client.start();
  } catch (e) {
    error = e;
  }
  expect(error, 'start() must reject').to.be.instanceOf(CallingError);
  // Refused at the handshake, not after a network timeout (generous bound: the machine is shared).
  expect(performance.now() - started).to.be.below(4000);
  expect(client.connectionState).to.equal('disconnected');
  await client.stop();
  return error as CallingError;
}

describe('signalling auth from a real CallClient', () => {
  afterEach(() => stopClients());

  it('a valid token from a token function connects', async () => {
    const id = uniqueUser('valid');
    const client = await startClient(id);
    expect(client.connectionState).to.equal('connected');
  });

  it('no token is refused with a typed signalling error that says why', async () => {
    const err = await refusal(uniqueUser('none'), undefined);
    expect(err.domain).to.equal('signalling');
    expect(err.code).to.equal('unauthorized');
    // PeerJS sends a random non-JWT token when it has none.
    expect(err.message).to.match(/refused the token: The token is not a valid calling token/);
  });

  it('a forged token is refused', async () => {
    const id = uniqueUser('forged');
    const err = await refusal(id, tokenFor(id, { variant: 'forged' }));
    expect([err.domain, err.code]).to.deep.equal(['signalling', 'unauthorized']);
    expect(err.message).to.match(/signature is invalid/);
  });

  it('an expired token is refused', async () => {
    const id = uniqueUser('expired');
    const err = await refusal(id, tokenFor(id, { variant: 'expired' }));
    expect(err.code).to.equal('unauthorized');
    expect(err.message).to.match(/expired/);
  });

  it("someone else's token is refused", async () => {
    const id = uniqueUser('wrongsub');
    const err = await refusal(id, tokenFor(id, { variant: 'other-subject' }));
    expect(err.code).to.equal('unauthorized');
    expect(err.message).to.match(/another user id/);
  });

  it('a reserved id cannot be claimed: the SDK refuses it, and so does the server', async () => {
    const server = await callingServer();
    expect(() => new CallClient({ userId: 'calling-gateway', server })).to.throw(CallingError).with.property('code', 'reserved-user-id');
    // A client that bypasses the SDK's check still meets the server's: a user-style token for the reserved id.
    const token = await tokenFor('calling-gateway', { variant: 'user-style' })();
    const ws = new WebSocket(`${server.replace(/^http/, 'ws')}/peerjs/peerjs?key=peerjs&id=calling-gateway&token=${token}`);
    const first = await new Promise<string>((resolve) => ws.addEventListener('message', (e) => resolve(String(e.data)), { once: true }));
    expect(JSON.parse(first)).to.deep.equal({ type: 'ERROR', payload: { msg: 'unauthorized: This id is reserved for the calling service.' } });
  });

  it('a static token opens one connection: reusing it is refused', async () => {
    const id = uniqueUser('static');
    const token = await tokenFor(id)();
    const first = await startClient(id, { token });
    await first.stop();
    const err = await refusal(id, token);
    expect(err.message).to.match(/already used/);
  });

  it('the token function is asked again on every start', async () => {
    const id = uniqueUser('fresh');
    let calls = 0;
    const source = tokenFor(id);
    const client = await startClient(id, { token: () => { calls++; return source(); } });
    await client.stop();
    await client.start();
    expect(client.connectionState).to.equal('connected');
    expect(calls).to.equal(2);
  });

  it('a short-lived token is refreshed before it expires and the session stays up', async () => {
    const id = uniqueUser('refresh');
    let calls = 0;
    const source = tokenFor(id, { ttl: '3' });
    const client = await startClient(id, { token: () => { calls++; return source(); } });
    const states: string[] = [];
    client.addEventListener('connectionstatechange', (e) => states.push(e.state));
    // 3 s tokens, refreshed at ~2.4 s: well past the first expiry, the session must still be up.
    await new Promise((r) => setTimeout(r, 5500));
    expect(calls).to.be.greaterThan(1);
    expect(states).to.deep.equal([]);
    expect(client.connectionState).to.equal('connected');
  });
});

describe('call records written by the server', () => {
  afterEach(() => stopClients());

  it('a call answered and hung up, and a declined call, are recorded with the right causes', async () => {
    const aliceId = uniqueUser('alice');
    const bobId = uniqueUser('bob');
    const alice = await startClient(aliceId);
    const bob = await startClient(bobId);
    let answer = true;
    bob.addEventListener('incomingcall', (e) => (answer ? e.call.answer({ video: false }) : e.call.hangup()));
    const call = alice.callUser(bobId);
    await nextEvent(call, 'established', 15_000);
    const ended = nextEvent(call, 'ended');
    call.hangup();
    await ended;

    answer = false;
    const declined = alice.callUser(bobId);
    await nextEvent(declined, 'ended', 15_000);
    expect(declined.details.endCause).to.equal('denied');

    type Row = { callId: string; endCause: string | null; establishedAt: number | null; caller: string; endedBy: string | null };
    const records = async (): Promise<Row[]> => ((await (await fetch(`/__calling-records?user=${aliceId}`)).json()) as { items: Row[] }).items;
    await waitFor(async () => (await records()).every((r) => r.endCause !== null) && (await records()).length === 2, 10_000, 'two ended records');
    const byId = new Map((await records()).map((r) => [r.callId, r]));
    expect(byId.get(call.id)).to.include({ endCause: 'hungUp', caller: aliceId });
    expect(byId.get(call.id)?.establishedAt).to.be.a('number');
    expect(byId.get(declined.id)).to.include({ endCause: 'denied', establishedAt: null });
  });
});
