// A hostile peer talks to a real CallClient over real PeerJS connections: junk is ignored, nothing crashes, and
// the state of a real call is not corrupted by messages that do not belong to it.
import { expect } from '@open-wc/testing';
import { Peer, type DataConnection } from 'peerjs';
import { PROTOCOL_VERSION, type Call } from '../../src/core/index.js';
import { callingServer, startClient, stopClients, tokenFor, uniqueUser, waitFor } from './helpers.js';

afterEach(stopClients);

async function rawPeer(id: string): Promise<Peer> {
  const url = new URL(await callingServer());
  const peer = new Peer(id, {
    host: url.hostname, port: Number(url.port), path: '/peerjs', secure: false, key: 'peerjs', debug: 0,
    token: await tokenFor(id)(), config: { iceServers: [] },
  });
  await new Promise<void>((resolve, reject) => { peer.once('open', () => resolve()); peer.once('error', reject); });
  return peer;
}

function open(conn: DataConnection): Promise<void> {
  return new Promise((resolve) => conn.once('open', () => resolve()));
}

describe('a malicious peer', () => {
  it('cannot crash a client or corrupt a ringing call with junk, wrong ids, wrong versions or huge messages', async () => {
    const bob = await startClient(uniqueUser('bob'));
    const errors: string[] = [];
    const onError = (e: ErrorEvent) => errors.push(e.message);
    window.addEventListener('error', onError);
    const calls: Call[] = [];
    bob.addEventListener('incomingcall', (e) => calls.push(e.call));
    const mallory = await rawPeer(uniqueUser('mallory'));
    try {
      // Connections whose invite is junk are refused without an incoming call, and so are connections in PeerJS's
      // 'json' serialization, whose deserializer throws on a `null` message.
      const validInvite = { v: PROTOCOL_VERSION, type: 'invite', callId: 'json-call', from: mallory.id, to: bob.userId, callType: 'user', video: false, headers: {} };
      const jsonConn = mallory.connect(bob.userId, { serialization: 'json', metadata: validInvite });
      jsonConn.on('open', () => jsonConn.send(null));
      for (const metadata of [undefined, 'invite', { v: 99, type: 'invite' }, { v: PROTOCOL_VERSION, type: 'invite', callId: 'x', from: 'm', to: 'b', video: 'yes' }]) {
        mallory.connect(bob.userId, { serialization: 'raw', metadata });
      }
      await new Promise((r) => setTimeout(r, 800));
      expect(calls).to.have.length(0);

      // A valid invite rings; junk afterwards changes nothing.
      const callId = 'mallory-call-1';
      const invite = { v: PROTOCOL_VERSION, type: 'invite', callId, from: mallory.id, to: bob.userId, callType: 'user', video: false, headers: {} };
      const conn = mallory.connect(bob.userId, { serialization: 'raw', metadata: invite });
      await open(conn);
      await waitFor(() => calls.length === 1, 5000, 'incoming call');
      const call = calls[0];
      expect(call.state).to.equal('ringing');
      const junk: unknown[] = [
        'hello', 42, null, [], { v: 2, type: 'hangup', callId, reason: 'hungUp' },
        { v: PROTOCOL_VERSION, type: 'hangup', callId: 'another-call', reason: 'hungUp' },
        { v: PROTOCOL_VERSION, type: 'deny', callId: 'another-call' },
        { v: PROTOCOL_VERSION, type: 'hangup', callId, reason: 'because' },
        { v: PROTOCOL_VERSION, type: 'media', callId, audioMuted: 'yes', videoPaused: false },
        { v: PROTOCOL_VERSION, type: 'dtmf', callId, digits: '<script>' },
        { v: PROTOCOL_VERSION, type: 'invite', callId, from: 'x'.repeat(200_000), to: 'y', video: false },
        { v: PROTOCOL_VERSION, type: 'participants', callId, participants: 'everyone' },
      ];
      for (const m of junk) conn.send(JSON.stringify(m));
      for (const text of ['', 'not json', '{', 'null', '"x"'.repeat(30_000), '\u0000']) conn.send(text);
      await new Promise((r) => setTimeout(r, 500));
      expect(call.state).to.equal('ringing');
      expect(call.remoteUserId).to.equal(mallory.id);
      expect(call.details.endCause).to.equal(undefined);

      // A well-formed message of this call still works: the caller cancels.
      conn.send(JSON.stringify({ v: PROTOCOL_VERSION, type: 'cancel', callId, reason: 'canceled' }));
      await waitFor(() => call.state === 'ended', 5000, 'call ended by cancel');
      expect(call.details.endCause).to.equal('canceled');
      expect(bob.activeCalls).to.have.length(0);
      expect(bob.connectionState).to.equal('connected');
      expect(errors).to.deep.equal([]);
    } finally {
      window.removeEventListener('error', onError);
      mallory.destroy();
    }
  });
});
