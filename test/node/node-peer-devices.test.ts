// A service (NodePeer) rings every device of a user on a real calling server; PeerServer's "peer unavailable"
// names the device that is gone, and device ids contain a space ("bob tablet").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCallingServer } from '../../src/server/calling-server.js';
import { DeviceFork, NodePeer, type PeerSession, type SessionEnd } from '../../src/server/node-peer/index.js';
import { sleep } from './server-support.js';

const loopbackOnly = (a: string) => a === '127.0.0.1';

test('a device that goes offline between the device query and the invite ends its own session unavailable; the other keeps ringing', { timeout: 30_000 }, async () => {
  const server = await startCallingServer({ port: 0, serveDemo: false });
  const start = (id: string, tokenFor = id) => NodePeer.start({ id, server: server.url, token: () => server.mintToken(tokenFor), candidateFilter: loopbackOnly });
  const service = await start('calling-gateway');
  const phone = await start('bob');
  const tablet = await start('bob tablet', 'bob');
  try {
    const ringingOnPhone = new Promise<PeerSession>((resolve) => phone.once('invite', (s) => { s.ringing(); resolve(s); }));
    const devices = await service.devicesOf('bob');
    assert.deepEqual([...(devices ?? [])].sort(), ['bob', 'bob tablet']);
    await tablet.stop(); // gone after the query, before the invite

    const fork = new DeviceFork(service, 'bob', devices, { callId: 'fork-1', from: '+15550100', to: 'bob', callType: 'sip', video: false, headers: {} });
    const byDevice = new Map(fork.sessions.map((s) => [s.remotePeerId, s]));
    const tabletEnd = new Promise<SessionEnd>((resolve) => byDevice.get('bob tablet')!.once('end', resolve));
    const forkRang = new Promise<void>((resolve) => fork.once('ringing', () => resolve()));
    const phoneSession = await ringingOnPhone;
    await forkRang;
    assert.equal((await tabletEnd).cause, 'unavailable');
    await sleep(500); // any late "unavailable" would land by now
    assert.equal(byDevice.get('bob')!.ended, undefined, 'the phone still rings');
    assert.equal(phoneSession.ended, undefined);
    assert.equal(fork.ended, undefined);

    const phoneEnd = new Promise<SessionEnd>((resolve) => phoneSession.once('end', resolve));
    fork.hangup();
    assert.deepEqual(await phoneEnd, { cause: 'canceled', by: 'remote' });
  } finally {
    await service.stop();
    await phone.stop();
    await tablet.stop();
    await server.close();
  }
});
