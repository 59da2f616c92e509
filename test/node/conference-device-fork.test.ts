// node-peer's DeviceFork (REST conference callouts and incoming SIP calls ring every device of a user), on fake
// sessions: who wins, what the others are told, how the fork ends. The real thing runs in conference-service.test.ts
// and the browser tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { DeviceFork } from '../../src/server/node-peer/device-fork.js';
import type { NodePeer, PcmFrame, SessionEnd } from '../../src/server/node-peer/index.js';

/** The part of a PeerSession a fork uses. */
class FakeSession extends EventEmitter {
  ended: SessionEnd | undefined;
  isMediaUp = false;
  hangups: string[] = [];
  sent: number[] = [];
  private audio: Array<(f: PcmFrame) => void> = [];
  constructor(readonly remotePeerId: string, readonly callId: string) { super(); }
  onAudio(l: (f: PcmFrame) => void): () => void { this.audio.push(l); return () => undefined; }
  sendAudio(samples: Int16Array): void { this.sent.push(samples.length); }
  send(): void {}
  hangup(reason = 'hungUp'): void {
    this.hangups.push(reason);
    this.end({ cause: reason === 'hungUp' ? 'canceled' : reason as SessionEnd['cause'], by: 'local' });
  }
  end(e: SessionEnd): void {
    if (this.ended) return;
    this.ended = e;
    this.emit('end', e);
  }
  frame(n: number): void { for (const l of this.audio) l({ samples: new Int16Array(n), sampleRate: 48_000 }); }
}

function fakePeer(devices: string[] | undefined): { peer: NodePeer; sessions: FakeSession[] } {
  const sessions: FakeSession[] = [];
  const peer = {
    call: (peerId: string, invite: { callId: string }) => {
      const s = new FakeSession(peerId, invite.callId);
      sessions.push(s);
      return s;
    },
    devicesOf: async () => devices,
  } as unknown as NodePeer;
  return { peer, sessions };
}

const invite = { from: 'room-1', to: 'bob', callType: 'conference' as const, video: false, headers: {} };

test('the first answer wins: the others are canceled with otherDeviceAnswered; events, audio and hangup are the winner\'s', async () => {
  const { peer, sessions } = fakePeer(['bob', 'bob tablet', 'bob tab-2']);
  const fork = (await DeviceFork.ring(peer, 'bob', { ...invite, callId: 'c1' }))!;
  assert.deepEqual(sessions.map((s) => [s.remotePeerId, s.callId]), [['bob', 'c1-main'], ['bob tablet', 'c1-tablet'], ['bob tab-2', 'c1-tab2']]);
  assert.equal(fork.callId, 'c1');
  const seen: string[] = [];
  for (const e of ['ringing', 'answer', 'media', 'mute', 'end'] as const) fork.on(e, () => seen.push(e));
  let frames = 0;
  fork.onAudio(() => frames++);
  sessions[0]!.emit('ringing');
  sessions[1]!.emit('ringing');
  sessions[0]!.frame(480); // not answered yet: nobody's audio
  sessions[1]!.isMediaUp = true; // media before the answer message
  sessions[1]!.emit('answer');
  assert.equal(fork.winner, sessions[1] as unknown);
  assert.equal(fork.remotePeerId, 'bob tablet');
  assert.deepEqual(sessions.map((s) => s.hangups), [['otherDeviceAnswered'], [], ['otherDeviceAnswered']]);
  sessions[2]!.emit('answer'); // too late: ignored
  sessions[0]!.frame(480);
  sessions[1]!.frame(480);
  sessions[1]!.emit('mute', true);
  fork.sendAudio(new Int16Array(480), 48_000);
  assert.deepEqual([frames, sessions[1]!.sent], [1, [480]]);
  fork.hangup();
  assert.deepEqual(sessions[1]!.hangups, ['hungUp']);
  assert.deepEqual(seen, ['ringing', 'ringing', 'answer', 'media', 'mute', 'end']);
  assert.deepEqual(fork.ended, { cause: 'canceled', by: 'local' });
});

test('declines: one leaves the others ringing, the last ends the fork denied; a decline on all devices cancels the rest', async () => {
  const { peer, sessions } = fakePeer(['bob', 'bob tablet']);
  const fork = new DeviceFork(peer, 'bob', await peer.devicesOf('bob'), invite);
  const ends: SessionEnd[] = [];
  fork.on('end', (e) => ends.push(e));
  sessions[0]!.end({ cause: 'denied', by: 'remote' });
  assert.equal(fork.ended, undefined);
  sessions[1]!.end({ cause: 'unavailable', by: 'remote' });
  assert.deepEqual(ends, [{ cause: 'denied', by: 'remote' }]);

  const two = fakePeer(['bob', 'bob tablet', 'bob phone']);
  const all = new DeviceFork(two.peer, 'bob', ['bob', 'bob tablet', 'bob phone'], invite);
  two.sessions[2]!.end({ cause: 'denied', by: 'remote', allDevices: true });
  assert.deepEqual(all.ended, { cause: 'denied', by: 'remote', allDevices: true });
  assert.deepEqual(two.sessions.map((s) => s.hangups), [['denied'], ['denied'], []]);
});

test('no device list (older server) or none online: the plain user id under the fork\'s own call id; proceed=false rings nobody', async () => {
  for (const devices of [undefined, []]) {
    const { peer, sessions } = fakePeer(devices);
    const fork = (await DeviceFork.ring(peer, 'bob', invite))!;
    assert.deepEqual(sessions.map((s) => [s.remotePeerId, s.callId]), [['bob', fork.callId]]);
    sessions[0]!.end({ cause: 'unavailable', by: 'remote' });
    assert.deepEqual(fork.ended, { cause: 'unavailable', by: 'remote' });
  }
  const { peer, sessions } = fakePeer(['bob']);
  assert.equal(await DeviceFork.ring(peer, 'bob', invite, { proceed: () => false }), undefined);
  assert.equal(sessions.length, 0);
  // Two device tags that reduce to the same suffix still get distinct call ids.
  const dup = fakePeer(['bob a-b', 'bob ab']);
  new DeviceFork(dup.peer, 'bob', ['bob a-b', 'bob ab'], { ...invite, callId: 'c2' });
  assert.deepEqual(dup.sessions.map((s) => s.callId), ['c2-ab', 'c2-ab2']);
});
