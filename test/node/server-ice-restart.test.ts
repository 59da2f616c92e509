// The signalling server's ICE-restart relay (`ICE-RESTART` messages, see src/core/protocol.ts) against a real server
// on 127.0.0.1: what it passes on, and everything it refuses to pass on.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ICE_RESTART_MESSAGE, MAX_RESTART_SDP } from '../../src/core/protocol.js';
import { startCallingServer, type CallingServer } from '../../src/server/calling-server.js';
import { mintUserToken } from '../../src/server/auth/tokens.js';
import { RawPeer, sleep } from './server-support.js';

const SECRET = 'test-secret-of-at-least-thirty-two-bytes!';
const SDP = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijkl\r\n';
const restart = (callId: string, type: 'offer' | 'answer' = 'offer', sdp = SDP) => ({ callId, connectionId: 'mc_123', sdp: { type, sdp } });

describe('ICE restart relay', () => {
  let server: CallingServer;
  let alice: RawPeer;
  let bob: RawPeer;
  const peer = async (id: string) => RawPeer.connect(server, id, (await mintUserToken(SECRET, id)).token);
  const restartsTo = (p: RawPeer) => p.inbox.filter((m) => m.type === ICE_RESTART_MESSAGE);

  before(async () => {
    server = await startCallingServer({ port: 0, host: '127.0.0.1', serveDemo: false, secret: SECRET });
    [alice, bob] = await Promise.all([peer('alice'), peer('bob')]);
  });
  after(async () => {
    await Promise.all([alice.close(), bob.close()]);
    await server.close();
  });

  test('an offer reaches the peer it names, from the authenticated sender, with only the known fields; the answer comes back', async () => {
    alice.send(ICE_RESTART_MESSAGE, 'bob', { ...restart('call-1'), extra: 'x'.repeat(100), sdp: { type: 'offer', sdp: SDP, more: 1 } });
    const got = await bob.waitFor((m) => m.type === ICE_RESTART_MESSAGE);
    assert.equal(got.src, 'alice');
    assert.deepEqual(got.payload, restart('call-1'));
    bob.send(ICE_RESTART_MESSAGE, 'alice', restart('call-1', 'answer'));
    const answer = await alice.waitFor((m) => m.type === ICE_RESTART_MESSAGE);
    assert.equal(answer.src, 'bob');
    assert.deepEqual(answer.payload, restart('call-1', 'answer'));
    alice.inbox.length = 0;
    bob.inbox.length = 0;
  });

  test('forged sender, oversized, malformed: dropped, never relayed, and nothing breaks', async () => {
    const carol = await peer('carol');
    // A frame naming a sender is refused outright, whoever it claims to be (even the truth).
    for (const src of ['carol', 'alice', 'mallory']) {
      carol.ws.send(JSON.stringify({ type: ICE_RESTART_MESSAGE, src, dst: 'bob', payload: restart('forged') }));
    }
    const bad: unknown[] = [
      restart('big', 'offer', SDP + 'a=x\r\n'.repeat(MAX_RESTART_SDP / 5)), // over the size limit
      restart('pranswer', 'pranswer' as 'offer'),
      restart('not-sdp', 'offer', 'hello'),
      { ...restart('no-connection'), connectionId: '' },
      { ...restart('long-connection'), connectionId: 'c'.repeat(129) },
      { connectionId: 'mc_123', sdp: { type: 'offer', sdp: SDP } }, // no call id
      { ...restart('sdp-number'), sdp: { type: 'offer', sdp: 42 } },
      { ...restart('sdp-array'), sdp: [SDP] },
      [restart('array')],
      'offer',
      null,
    ];
    for (const payload of bad) carol.send(ICE_RESTART_MESSAGE, 'bob', payload);
    carol.ws.send(JSON.stringify({ type: ICE_RESTART_MESSAGE, payload: restart('no-dst') }));
    carol.ws.send(JSON.stringify({ type: ICE_RESTART_MESSAGE, dst: ['bob'], payload: restart('dst-array') }));
    carol.ws.send(`{"type":"${ICE_RESTART_MESSAGE}","dst":"bob","payload":`); // not JSON
    // One good message last: everything sent before it would have arrived before it.
    carol.send(ICE_RESTART_MESSAGE, 'bob', restart('good'));
    await bob.waitFor((m) => m.type === ICE_RESTART_MESSAGE);
    await sleep(100);
    assert.deepEqual(restartsTo(bob).map((m) => [m.src, (m.payload as { callId: string }).callId]), [['carol', 'good']]);
    assert.equal(carol.ws.readyState, carol.ws.OPEN, 'the sender stays connected');
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    await carol.close();
    bob.inbox.length = 0;
  });

  test('to a peer that is not online: dropped, not queued for it, and the sender is not told who exists', async () => {
    alice.send(ICE_RESTART_MESSAGE, 'dave', restart('to-dave'));
    await sleep(800); // longer than the server's expire_timeout (500 ms): a queued OFFER would have expired by now
    const dave = await peer('dave');
    await sleep(300);
    assert.deepEqual(restartsTo(dave), [], 'nothing was kept for dave');
    assert.deepEqual(alice.inbox.filter((m) => m.type !== 'HEARTBEAT'), [], 'no EXPIRE or error comes back');
    await dave.close();
  });

  test('a peer that left gets nothing that was sent while it was away', async () => {
    const erin = await peer('erin');
    await erin.close();
    await sleep(100);
    alice.send(ICE_RESTART_MESSAGE, 'erin', restart('to-erin'));
    const back = await peer('erin');
    alice.send(ICE_RESTART_MESSAGE, 'erin', restart('to-erin-again'));
    await back.waitFor((m) => m.type === ICE_RESTART_MESSAGE);
    await sleep(100);
    assert.deepEqual(restartsTo(back).map((m) => (m.payload as { callId: string }).callId), ['to-erin-again']);
    await back.close();
  });
});
