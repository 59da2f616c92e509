// CALL-HISTORY on the signalling socket of a real calling server: a user gets their own calls and nobody else's,
// malformed queries get typed errors (and the server keeps serving), services get nothing, and queries are rate-limited.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GATEWAY_PEER_ID } from '../../src/core/protocol.js';
import { CALL_HISTORY_MESSAGE } from '../../src/core/call-history.js';
import { startCallingServer, type CallingServer } from '../../src/server/calling-server.js';
import { RawPeer, sleep } from './server-support.js';

type Answer = { requestId?: string; calls?: Array<Record<string, unknown>>; error?: { code: string; message: string } };

describe('call history over the signalling socket', () => {
  let server: CallingServer;
  let n = 0;
  before(async () => {
    server = await startCallingServer({ port: 0, serveDemo: false });
    const { store } = server;
    await store.callStarted({ callId: 'a1', caller: 'amy', callerName: 'Amy A', callee: 'ben', calleePeer: 'ben', callType: 'user', video: true, at: 1_000 });
    await store.callEstablished('a1', 2_000);
    await store.callEnded('a1', { at: 62_400, cause: 'hungUp', endedBy: 'ben' });
    await store.callStarted({ callId: 'a2', caller: 'ben', callee: 'amy', calleePeer: 'amy', callType: 'user', video: false, at: 5_000 });
    await store.callEnded('a2', { at: 9_000, cause: 'canceled', endedBy: 'ben' });
    await store.callStarted({ callId: 'c1', caller: 'ben', callee: 'cid', calleePeer: 'cid', callType: 'user', video: false, at: 7_000 });
    await store.callEnded('c1', { at: 8_000, cause: 'denied', endedBy: 'cid' });
  });
  after(() => server.close());

  async function ask(peer: RawPeer, payload: unknown): Promise<Answer> {
    const requestId = `r${n++}`;
    peer.send(CALL_HISTORY_MESSAGE, undefined, typeof payload === 'object' && payload !== null ? { requestId, ...payload } : payload);
    const m = await peer.waitFor((x) => x.type === CALL_HISTORY_MESSAGE && (x.payload as Answer).requestId === requestId);
    return m.payload as Answer;
  }

  test('each user gets their own calls, with direction and duration relative to them', async () => {
    const amy = await RawPeer.connect(server, 'amy', await server.mintToken('amy'));
    const ben = await RawPeer.connect(server, 'ben', await server.mintToken('ben'));
    const mine = await ask(amy, {});
    assert.deepEqual(mine.calls, [
      { callId: 'a2', direction: 'incoming', callType: 'user', remote: 'ben', video: false, startedAt: 5_000, answered: false, duration: 0, endCause: 'canceled' },
      { callId: 'a1', direction: 'outgoing', callType: 'user', remote: 'ben', video: true, startedAt: 1_000, answered: true, duration: 60, endCause: 'hungUp' },
    ]);
    const his = await ask(ben, { limit: 2 });
    assert.deepEqual(his.calls?.map((c) => [c.callId, c.direction, c.remote, c.remoteDisplayName]), [['c1', 'outgoing', 'cid', undefined], ['a2', 'outgoing', 'amy', undefined]]);
    const rest = await ask(ben, { limit: 2, before: 'a2' });
    assert.deepEqual(rest.calls?.map((c) => [c.callId, c.direction, c.remoteDisplayName]), [['a1', 'incoming', 'Amy A']]);
    // A query cannot name another user: the socket's own user is asked for, whatever the payload says.
    const sneaky = await ask(amy, { userId: 'cid', user: 'cid' });
    assert.deepEqual(sneaky.calls?.map((c) => c.callId), ['a2', 'a1']);
    await Promise.all([amy.close(), ben.close()]);
  });

  test('bad queries get typed errors, never a crash', async () => {
    const amy = await RawPeer.connect(server, 'amy', await server.mintToken('amy'));
    for (const [payload, code] of [
      [{ limit: 'ten' }, 'invalid-limit'], [{ limit: 1e9 }, 'invalid-limit'], [{ limit: 0 }, 'invalid-limit'], [{ limit: 2.5 }, 'invalid-limit'],
      [{ before: { $gt: '' } }, 'invalid-cursor'], [{ before: 'x'.repeat(500) }, 'invalid-cursor'],
      [{ before: 'c1' }, 'invalid-cursor'], // ben's and cid's call, not amy's
    ] as const) {
      const answer = await ask(amy, payload);
      assert.equal(answer.error?.code, code, JSON.stringify(payload));
      assert.equal(answer.calls, undefined);
    }
    amy.send(CALL_HISTORY_MESSAGE, undefined, null);
    amy.send(CALL_HISTORY_MESSAGE, undefined, 'garbage');
    const noId = await amy.waitFor((m) => m.type === CALL_HISTORY_MESSAGE && (m.payload as Answer).requestId === '');
    assert.equal((noId.payload as Answer).error?.code, 'invalid-request');
    await sleep(1100); // the burst above used up most of amy's allowance
    assert.equal((await ask(amy, {})).calls?.length, 2, 'still serving');
    await amy.close();
  });

  test('services get no history, and a user is rate-limited', async () => {
    const gateway = await RawPeer.connect(server, GATEWAY_PEER_ID, await server.mintToken(GATEWAY_PEER_ID));
    gateway.send(CALL_HISTORY_MESSAGE, undefined, { requestId: 'g1' });
    await sleep(300);
    assert.equal(gateway.inbox.filter((m) => m.type === CALL_HISTORY_MESSAGE).length, 0);
    await gateway.close();

    const ben = await RawPeer.connect(server, 'ben', await server.mintToken('ben'));
    const answers = await Promise.all(Array.from({ length: 14 }, () => ask(ben, { limit: 1 })));
    const limited = answers.filter((a) => a.error?.code === 'rate-limited').length;
    assert.ok(limited >= 3 && limited <= 4, `${limited} of 14 refused (burst 10)`);
    assert.ok(answers.every((a) => a.error?.code === 'rate-limited' || a.calls?.length === 1));
    await ben.close();
  });
});
