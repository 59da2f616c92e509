// Several nodes with real browsers: PostgreSQL + Redis + three `src/server/main.ts` nodes (each with its conference
// service) + HAProxy (deploy/haproxy.cfg), and Chromium pages (fake camera and microphone) using the built SDK. Pages
// that must sit on a given node are loaded from that node; the SIGKILL case goes through the load balancer, as users
// do. Needs `node scripts/build.mjs` (dist/) and the Debian packages postgresql redis-server haproxy chromium.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { mintUserToken } from '../../src/server/auth/tokens.js';
import { clusterMissing, startLocalCluster, type LocalCluster, type LocalNode } from '../../src/server/cluster/local.js';
import { CHROMIUM, CHROMIUM_ARGS, mediaFlow, placeVideoCall, signIn } from '../support/browser-call.js';
import { eventually, sleep } from './server-support.js';

const skip = clusterMissing() ?? (existsSync(CHROMIUM) ? undefined : 'needs Chromium (apt-get install chromium)');

type Win = Record<string, unknown>;

describe('real browsers on a cluster of three nodes behind HAProxy', { skip }, () => {
  let c: LocalCluster;
  let browser: Browser;
  const pages: Page[] = [];

  before(async () => {
    assert.ok(existsSync('dist/calling-elements.js'), 'build first: node scripts/build.mjs');
    c = await startLocalCluster({ nodes: 3, env: { CONFERENCE: 'on' } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    await c?.stop();
  });

  const api = async (node: LocalNode, path: string) => {
    const res = await fetch(`${node.url}/api/v1${path}`, { headers: { authorization: `Basic ${Buffer.from(`${c.app.key}:${c.app.secret}`).toString('base64')}` } });
    return { status: res.status, body: await res.json() as Record<string, unknown> };
  };

  /** A page at `origin` (a node, or the load balancer) with `userId` signed in; it answers every call with video. */
  const user = async (userId: string, origin: string): Promise<Page> => {
    const page = await browser.newPage();
    pages.push(page);
    page.on('pageerror', (e) => console.error(`${userId} page error:`, e.message));
    await page.exposeFunction('__mintToken', async (u: string) => (await mintUserToken(c.secret, u)).token);
    // Any page of the origin will do; /healthz is one that loads nothing of its own.
    await page.goto(`${origin}/healthz`);
    await signIn(page, userId);
    // Signalling states with their times, and every remote stream played (Chrome counts received audio energy only
    // for a stream that plays).
    await page.evaluate(() => {
      const w = window as unknown as Record<string, unknown>;
      const client = w.client as import('../../src/index.js').CallClient;
      const states: Array<{ state: string; at: number }> = [];
      w.states = states;
      client.addEventListener('connectionstatechange', (e) => states.push({ state: e.state, at: Date.now() }));
      const play = (call: import('../../src/index.js').Call) => call.addEventListener('remotestream', (e) => {
        const audio = new Audio();
        audio.srcObject = e.stream;
        void audio.play();
      });
      client.addEventListener('incomingcall', (e) => play(e.call));
      client.addEventListener('callstarted', (e) => play(e.call));
    });
    return page;
  };

  const closePages = async () => {
    for (const p of pages.splice(0)) await p.close().catch(() => undefined);
  };

  test('an audio + video call between users on two nodes: media flows both ways, one record', async () => {
    const [n0, n1] = c.nodes as [LocalNode, LocalNode];
    const alice = await user('alice', n0.url);
    const bob = await user('bob', n1.url);
    assert.equal((await c.whereIs('alice'))?.index, 0);
    assert.equal((await c.whereIs('bob'))?.index, 1);
    const outcome = await placeVideoCall(alice, 'bob');
    assert.equal(outcome.state, 'established', JSON.stringify(outcome));
    const [a, b] = await Promise.all([mediaFlow(alice), mediaFlow(bob)]);
    assert.ok(a.audioPacketsReceived > 20 && a.videoBytesReceived > 10_000, `alice receives: ${JSON.stringify(a)}`);
    assert.ok(b.audioPacketsReceived > 20 && b.videoBytesReceived > 10_000, `bob receives: ${JSON.stringify(b)}`);
    const callId = await alice.evaluate(() => ((window as unknown as Win).call as { id: string }).id);
    await alice.evaluate(() => ((window as unknown as Win).call as { hangup(): void }).hangup());
    const rec = await eventually(async () => { const r = await api(c.nodes[2]!, `/calls/${callId}`); return r.body.endedAt ? r.body : undefined; }, 5000, 'record ended');
    assert.deepEqual([rec.caller, rec.callee, rec.video, rec.endCause], ['alice', 'bob', true, 'hungUp']);
    assert.ok(rec.establishedAt, 'established');
    await closePages();
  });

  test('a conference whose participants arrive through three nodes: one room, everyone hears the others, a REST callout via another node joins it; its node dies: calls end at once, records closed', async () => {
    const people = await Promise.all(c.nodes.map((n, i) => user(`conf${i}`, n.url)));
    for (const page of people) {
      const state = await page.evaluate(async () => {
        const w = window as unknown as Win;
        const call = (w.client as import('../../src/index.js').CallClient).callConference('cluster-room');
        w.call = call;
        for (let i = 0; i < 150 && call.state !== 'established' && call.state !== 'ended'; i++) await new Promise((r) => setTimeout(r, 100));
        return call.state === 'ended' ? `ended: ${call.details.endCause} ${call.details.error?.code}` : call.state;
      });
      assert.equal(state, 'established');
    }
    // One room, on one node, seen alike from every node.
    for (const n of c.nodes) {
      const room = await eventually(async () => {
        const r = await api(n, '/conferences/cluster-room');
        const joined = ((r.body.participants ?? []) as Array<{ id: string; state: string }>).filter((p) => p.state === 'joined');
        return joined.length === 3 ? joined : undefined;
      }, 10_000, `three joined, asked on node ${n.index}`);
      assert.deepEqual(room.map((p) => p.id).sort(), ['conf0', 'conf1', 'conf2']);
    }
    // Every participant receives the others' (fake microphone) audio mixed: energy, not silence.
    const energy = async (page: Page) => page.evaluate(async () => {
      const pc = ((window as unknown as Win).call as { link?: { peerConnection?: RTCPeerConnection } }).link?.peerConnection;
      let total = 0;
      (await pc!.getStats()).forEach((s: Record<string, unknown>) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') total += Number(s.totalAudioEnergy ?? 0); });
      return total;
    });
    const first = await Promise.all(people.map(energy));
    await sleep(2000);
    const then = await Promise.all(people.map(energy));
    for (let i = 0; i < people.length; i++) assert.ok(then[i]! - first[i]! > 0.001, `conf${i} hears the room: audio energy ${first[i]} → ${then[i]}`);

    // A REST callout through another node than the room's rings a user on a third one into the same room.
    const host = (await c.roomHost('cluster-room'))!;
    assert.equal(host.index, 0, 'the room lives where its first participant arrived');
    const late = await user('conf3', c.nodes[1]!.url);
    const res = await fetch(`${c.nodes[2]!.url}/api/v1/conferences/cluster-room/participants`, {
      method: 'POST', body: JSON.stringify({ userId: 'conf3' }),
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${c.app.key}:${c.app.secret}`).toString('base64')}` },
    });
    assert.equal(res.status, 201, await res.text());
    await eventually(async () => {
      const r = await api(c.nodes[1]!, '/conferences/cluster-room');
      return ((r.body.participants ?? []) as Array<{ id: string; state: string }>).filter((p) => p.state === 'joined').length === 4 || undefined;
    }, 10_000, 'the callout joined');
    people.push(late);
    const callIds = await Promise.all(people.map((p) => p.evaluate(() => ((window as unknown as Win).call as { id: string }).id)));

    // The room's node dies: the room is gone, and the participants signed in elsewhere see their calls end at once.
    const killedAt = Date.now();
    host.crash(); // the node and its conference service
    await host.exited;
    for (const [i, page] of people.entries()) {
      if (i === 0) continue; // conf0 was signed in on the dead node too
      const ended = await eventually(() => page.evaluate(() => {
        const call = (window as unknown as Win).call as { state: string; details: { endCause?: string; error?: { code: string } } };
        return call.state === 'ended' ? `${call.details.endCause} ${call.details.error?.code}` : undefined;
      }), 6000, `conf${i}'s call ends`);
      // LEAVE closes the call's two connections at once: whichever close the SDK notices first names the error.
      assert.match(String(ended), /^failure (connection-lost|media-closed)$/, `conf${i}`);
    }
    console.log(`# conference calls ended ${Date.now() - killedAt} ms after the room's node was killed`);
    // Every participant's record closes, conf0's too (its own node died with the room: a surviving node closes it).
    for (const [i, callId] of callIds.entries()) {
      const rec = await eventually(async () => { const r = await api(c.nodes[1]!, `/calls/${callId}`); return r.body.endedAt ? r.body : undefined; }, 5000, `conf${i}'s record ends`);
      assert.equal(rec.endCause, 'failure');
      assert.match(String(rec.error), /conference service's node .* stopped/);
    }
    // The next join of the same room id creates it afresh on a live node.
    const rejoined = await people[1]!.evaluate(async () => {
      const call = ((window as unknown as Win).client as import('../../src/index.js').CallClient).callConference('cluster-room');
      for (let i = 0; i < 150 && call.state !== 'established' && call.state !== 'ended'; i++) await new Promise((r) => setTimeout(r, 100));
      return call.state;
    });
    assert.equal(rejoined, 'established');
    await closePages();
  });

  test('SIGKILL of the node both callers are on, under a video call: media goes on, both are connected again within 5 s, hang-up delivered, record closed, a new call works', async () => {
    // Two nodes are left (the conference test killed one).
    const alice = await user('hal', c.lb);
    const home = await c.whereIs('hal');
    assert.ok(home, 'hal is signed in');
    // Bob signs in through the load balancer until he lands where hal is (round robin).
    let bob = await user('ivy', c.lb);
    for (let i = 0; i < 6 && (await c.whereIs('ivy'))?.index !== home.index; i++) {
      await bob.close();
      await sleep(300); // its claim on the id is released
      bob = await user('ivy', c.lb);
    }
    assert.equal((await c.whereIs('ivy'))?.index, home.index, 'both on one node');
    const outcome = await placeVideoCall(alice, 'ivy');
    assert.equal(outcome.state, 'established', JSON.stringify(outcome));
    const callId = await alice.evaluate(() => ((window as unknown as Win).call as { id: string }).id);
    const before = await Promise.all([mediaFlow(alice, 500), mediaFlow(bob, 0)]);

    const killedAt = Date.now();
    home.crash();
    await home.exited;
    const backAt = async (page: Page) => eventually(() => page.evaluate((since) => {
      const w = window as unknown as Win;
      const client = w.client as { connectionState: string };
      const states = w.states as Array<{ state: string; at: number }>;
      const back = states.find((s) => s.at >= since && s.state === 'connected');
      return client.connectionState === 'connected' && back ? back.at : undefined;
    }, killedAt), 10_000, 'connected again');
    const [aBack, bBack] = await Promise.all([backAt(alice), backAt(bob)]);
    console.log(`# connected again ${aBack - killedAt} ms / ${bBack - killedAt} ms after SIGKILL`);
    assert.ok(aBack - killedAt <= 5000 && bBack - killedAt <= 5000, `back within 5 s: ${aBack - killedAt} / ${bBack - killedAt} ms`);
    for (const id of ['hal', 'ivy']) assert.notEqual((await c.whereIs(id))?.index, home.index, `${id} on another node`);
    // Media went on through it (peer to peer), both ways.
    const after = await Promise.all([mediaFlow(alice, 1000), mediaFlow(bob, 0)]);
    for (const [i, who] of ['hal', 'ivy'].entries()) {
      assert.ok(after[i]!.audioPacketsReceived > before[i]!.audioPacketsReceived + 50, `${who} still receives audio: ${JSON.stringify([before[i], after[i]])}`);
      assert.ok(after[i]!.videoBytesReceived > before[i]!.videoBytesReceived + 10_000, `${who} still receives video`);
    }
    assert.equal(await bob.evaluate(() => ((window as unknown as Win).call as { state: string }).state), 'established');

    // Hang-up delivered, and the record closed (written by the surviving nodes into PostgreSQL).
    await alice.evaluate(() => ((window as unknown as Win).call as { hangup(): void }).hangup());
    const end = await eventually(() => bob.evaluate(() => {
      const call = (window as unknown as Win).call as { state: string; details: { endCause?: string } };
      return call.state === 'ended' ? call.details.endCause : undefined;
    }), 5000, 'ivy sees the hang-up');
    assert.equal(end, 'hungUp');
    const live = c.nodes.find((n) => n !== home && n.process.exitCode === null && n.process.signalCode === null)!;
    const rec = await eventually(async () => { const r = await api(live, `/calls/${callId}`); return r.body.endedAt ? r.body : undefined; }, 5000, 'record ended');
    assert.equal(rec.endCause, 'hungUp');

    // A new call between them works.
    const again = await placeVideoCall(alice, 'ivy');
    assert.equal(again.state, 'established', JSON.stringify(again));
    const flow = await mediaFlow(bob, 1500);
    assert.ok(flow.audioPacketsReceived > 20 && flow.videoBytesReceived > 10_000, `new call media: ${JSON.stringify(flow)}`);
    await closePages();
  });
});
