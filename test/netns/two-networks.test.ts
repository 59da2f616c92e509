// Two people on different networks: two Chromium instances in two network namespaces, each behind its own home
// router namespace that translates addresses (nftables masquerade, as a home NAT does), with the calling server and its
// embedded coturn (TURN=embedded) in a third namespace that plays the internet: it has no route into either home
// network and forwards nothing between the routers, so the browsers reach the server's address and nothing else — not
// each other. A video call connects through the TURN relay with media both ways, also when one home lets no UDP out
// (TURN over TCP); without TURN the same call fails with `failure` and a `network` error within the establish
// timeout, which shows the setup really blocks the direct path.
// Needs root (ip netns); where the machine refuses, the tests say so and skip.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startMain, type MainProcess } from '../support/start-main.js';
import { CHROMIUM, CHROMIUM_ARGS, mediaFlow, placeVideoCall, signIn } from '../support/browser-call.js';

const tag = Math.random().toString(16).slice(2, 6);
const NS = { srv: `ce${tag}-srv`, natA: `ce${tag}-nata`, natB: `ce${tag}-natb`, a: `ce${tag}-a`, b: `ce${tag}-b` };
const SERVER_IP = '10.99.0.1';
const ORIGIN = `http://${SERVER_IP}:9000`;
const ESTABLISH_TIMEOUT = 10_000;

let skipReason: string | undefined;
let main: MainProcess | undefined;
const browsers: Browser[] = [];
const created: string[] = [];
let dir: string;

function sh(...args: string[]): void {
  execFileSync(args[0]!, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
}
function inNs(ns: string, ...args: string[]): void {
  sh('ip', 'netns', 'exec', ns, ...args);
}

/**
 * One home network: client namespace `client` on 10.99.<n>.0/24 behind router `nat`, whose WAN is 10.99.<n>0.2/30.
 * The router gives everything leaving through its WAN side its own address; the server's side has no route back
 * into the home network, only to the router.
 */
function homeNetwork(n: number, nat: string, client: string): void {
  const v = (s: string) => `ce${tag}${s}${n}`; // veth names: at most 15 characters
  sh('ip', 'link', 'add', v('w'), 'netns', nat, 'type', 'veth', 'peer', 'name', v('s'), 'netns', NS.srv);
  sh('ip', 'link', 'add', v('l'), 'netns', nat, 'type', 'veth', 'peer', 'name', v('c'), 'netns', client);
  inNs(NS.srv, 'ip', 'addr', 'add', `10.99.${n}0.1/30`, 'dev', v('s'));
  inNs(NS.srv, 'ip', 'link', 'set', v('s'), 'up');
  inNs(nat, 'ip', 'addr', 'add', `10.99.${n}0.2/30`, 'dev', v('w'));
  inNs(nat, 'ip', 'addr', 'add', `10.99.${n}.1/24`, 'dev', v('l'));
  for (const d of [v('w'), v('l'), 'lo']) inNs(nat, 'ip', 'link', 'set', d, 'up');
  inNs(nat, 'ip', 'route', 'add', 'default', 'via', `10.99.${n}0.1`);
  inNs(nat, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
  inNs(nat, 'nft', `add table ip nat; add chain ip nat post { type nat hook postrouting priority srcnat; }; add rule ip nat post oifname ${v('w')} masquerade`);
  inNs(client, 'ip', 'addr', 'add', `10.99.${n}.2/24`, 'dev', v('c'));
  for (const d of [v('c'), 'lo']) inNs(client, 'ip', 'link', 'set', d, 'up');
  inNs(client, 'ip', 'route', 'add', 'default', 'via', `10.99.${n}.1`);
}

/**
 * A default route into nowhere, as a server on the internet has: packets to addresses it has no better route for
 * (the browsers' private host candidates) leave and are lost on the way. Without it, sending there fails with
 * ENETUNREACH, and coturn 4.6 closes a relay allocation on a failed send — every relayed call would break on the
 * first check towards the other side's host candidate, which no real server shows.
 */
function upstream(ns: string): void {
  const v = (s: string) => `ce${tag}up${s}`;
  inNs(ns, 'ip', 'link', 'add', v('0'), 'type', 'veth', 'peer', 'name', v('1'));
  inNs(ns, 'ip', 'addr', 'add', '10.99.254.1/30', 'dev', v('0'));
  for (const d of [v('0'), v('1')]) inNs(ns, 'ip', 'link', 'set', d, 'up');
  // A gateway that never answers: its link address is fixed, so nothing waits for ARP and the frames are dropped.
  inNs(ns, 'ip', 'neigh', 'add', '10.99.254.2', 'lladdr', '02:00:00:00:00:01', 'dev', v('0'), 'nud', 'permanent');
  inNs(ns, 'ip', 'route', 'add', 'default', 'via', '10.99.254.2');
}

function cleanup(): void {
  for (const ns of created.splice(0)) {
    try {
      sh('ip', 'netns', 'del', ns); // removes the veths inside it too
    } catch {
      // already gone
    }
  }
}

before(async () => {
  if (process.getuid?.() !== 0) {
    skipReason = 'not root: network namespaces need root';
    return;
  }
  try {
    for (const ns of Object.values(NS)) {
      sh('ip', 'netns', 'add', ns);
      created.push(ns);
    }
  } catch (err) {
    skipReason = `this machine refuses network namespaces: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
    cleanup();
    return;
  }
  process.once('exit', cleanup); // a crash of the test process still removes them
  try {
    inNs(NS.srv, 'ip', 'link', 'set', 'lo', 'up');
    inNs(NS.srv, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=0'); // the "internet" here carries nothing between homes
    inNs(NS.srv, 'ip', 'addr', 'add', `${SERVER_IP}/32`, 'dev', 'lo');
    upstream(NS.srv);
    homeNetwork(1, NS.natA, NS.a);
    homeNetwork(2, NS.natB, NS.b);
  } catch (err) {
    cleanup();
    skipReason = `this machine refuses the network set-up (veth, routes): ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
    return;
  }
  dir = mkdtempSync(join(tmpdir(), 'calling-netns-'));
  main = startMain({ HOST: SERVER_IP, PORT: '9000', CALLING_DEMO: '1', TURN: 'embedded' }, ['ip', 'netns', 'exec', NS.srv]);
  await main.waitFor(/TURN: turn:10\.99\.0\.1:3478\?transport=udp, turn:\S+\?transport=tcp \(embedded coturn/, 120_000);
  for (const ns of [NS.a, NS.b]) {
    const wrapper = join(dir, `chromium-${ns}`);
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} ${CHROMIUM} "$@"\n`);
    chmodSync(wrapper, 0o755);
    browsers.push(await chromium.launch({
      executablePath: wrapper,
      args: [...CHROMIUM_ARGS, `--unsafely-treat-insecure-origin-as-secure=${ORIGIN}`, '--disable-features=WebRtcHideLocalIpsWithMdns'],
    }));
  }
});

after(async () => {
  for (const b of browsers) await b.close().catch(() => undefined);
  await main?.stop();
  cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function pages(): Promise<[Page, Page]> {
  const [a, b] = await Promise.all(browsers.map(async (br) => {
    const page = await br.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(`${ORIGIN}/`);
    return page;
  }));
  return [a!, b!];
}

/** The addresses the STUN/TURN server reports back to this page (its server-reflexive candidates). */
function mappedAddresses(page: Page, iceServers: RTCIceServer[]): Promise<string[]> {
  return page.evaluate(async (iceServers) => {
    const pc = new RTCPeerConnection({ iceServers });
    pc.createDataChannel('probe');
    const seen = new Set<string>();
    const done = new Promise<void>((resolve) => {
      pc.onicecandidate = (e) => {
        if (!e.candidate) resolve();
        else if (e.candidate.type === 'srflx' && e.candidate.address) seen.add(e.candidate.address);
      };
    });
    await pc.setLocalDescription(await pc.createOffer());
    await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
    pc.close();
    return [...seen];
  }, iceServers);
}

test('the two home networks have no route to each other, only to the server', (t) => {
  if (skipReason) return t.skip(skipReason);
  const reach = (ns: string, ip: string, port: number) => {
    try {
      execFileSync('ip', ['netns', 'exec', ns, process.execPath, '-e',
        // A refused connection came back from that host: reachable too.
        `const s=require('net').connect(${port},'${ip}');s.setTimeout(1500);s.on('connect',()=>process.exit(0));s.on('error',(e)=>process.exit(e.code==='ECONNREFUSED'?0:1));s.on('timeout',()=>process.exit(1))`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  assert.equal(reach(NS.a, SERVER_IP, 9000), true, 'network A reaches the server');
  assert.equal(reach(NS.b, SERVER_IP, 9000), true, 'network B reaches the server');
  assert.equal(reach(NS.a, '10.99.2.2', 9000), false, 'network A does not reach B');
  assert.equal(reach(NS.b, '10.99.1.2', 9000), false, 'network B does not reach A');
  assert.equal(reach(NS.a, '10.99.20.2', 9000), false, 'network A does not reach B\'s router');
  assert.equal(reach(NS.b, '10.99.10.2', 9000), false, 'network B does not reach A\'s router');
});

test('a video call between the two networks goes through the TURN relay, with media both ways', async (t) => {
  if (skipReason) return t.skip(skipReason);
  const [alice, bob] = await pages();
  const servers = await signIn(alice, 'alice', { establishTimeout: ESTABLISH_TIMEOUT });
  assert.match(String((servers[0]?.urls as string[] | undefined)?.[0]), /^turn:10\.99\.0\.1:3478/);
  await signIn(bob, 'bob', { establishTimeout: ESTABLISH_TIMEOUT });
  // Behind address translation: the TURN server sees each browser at its router's address, not its own.
  assert.deepEqual(await mappedAddresses(alice, servers), ['10.99.10.2'], 'alice is seen at router A\'s address');
  assert.deepEqual(await mappedAddresses(bob, servers), ['10.99.20.2'], 'bob is seen at router B\'s address');
  const outcome = await placeVideoCall(alice, 'bob');
  assert.equal(outcome.state, 'established', JSON.stringify(outcome));
  const [a, b] = await Promise.all([mediaFlow(alice), mediaFlow(bob)]);
  assert.ok(a.audioPacketsReceived > 20 && a.videoBytesReceived > 1000, `alice receives: ${JSON.stringify(a)}`);
  assert.ok(b.audioPacketsReceived > 20 && b.videoBytesReceived > 1000, `bob receives: ${JSON.stringify(b)}`);
  assert.ok(a.local === 'relay' || a.remote === 'relay', `the media path is relayed: ${JSON.stringify(a)}`);
  await Promise.all([alice.close(), bob.close()]);
});

test('a home network that lets no UDP out still calls: its browser reaches the relay over TCP', async (t) => {
  if (skipReason) return t.skip(skipReason);
  // Like some offices and hotels: router A forwards TCP only (signalling, and TURN over TCP on the same port).
  inNs(NS.natA, 'nft', 'add table inet fw; add chain inet fw homeout { type filter hook forward priority 0; }; add rule inet fw homeout meta l4proto udp drop');
  try {
    const [alice, bob] = await pages();
    await signIn(alice, 'alice', { establishTimeout: ESTABLISH_TIMEOUT });
    await signIn(bob, 'bob', { establishTimeout: ESTABLISH_TIMEOUT });
    const outcome = await placeVideoCall(alice, 'bob');
    assert.equal(outcome.state, 'established', JSON.stringify(outcome));
    const [a, b] = await Promise.all([mediaFlow(alice), mediaFlow(bob)]);
    assert.ok(a.audioPacketsReceived > 20 && a.videoBytesReceived > 1000, `alice receives: ${JSON.stringify(a)}`);
    assert.ok(b.audioPacketsReceived > 20 && b.videoBytesReceived > 1000, `bob receives: ${JSON.stringify(b)}`);
    assert.equal(a.local, 'relay', `alice's media goes through the relay: ${JSON.stringify(a)}`);
    assert.equal(a.relayProtocol, 'tcp', `alice reaches the relay over TCP: ${JSON.stringify(a)}`);
    await Promise.all([alice.close(), bob.close()]);
  } finally {
    inNs(NS.natA, 'nft', 'delete table inet fw');
  }
});

// The SDK sends its invite over the call's peer-to-peer data channel, so with no path the callee never rings; but
// bob's device answered the connection over signalling (its SDP answer arrived), so the person is there and the
// network path is what is blocked: the call ends at the connect timeout (5 s) as `failure` with the `network` error
// `no-media-path` (src/core/transport/control-channel.ts `connectFailure`) — before the establish timeout.
test('without TURN the same call fails with a `network` error within the establish timeout', async (t) => {
  if (skipReason) return t.skip(skipReason);
  const [alice, bob] = await pages();
  // The app's own (empty) iceServers win over the server's TURN servers: TURN is off for this call.
  await signIn(alice, 'alice', { establishTimeout: ESTABLISH_TIMEOUT, iceServers: [] });
  await signIn(bob, 'bob', { establishTimeout: ESTABLISH_TIMEOUT, iceServers: [] });
  const outcome = await placeVideoCall(alice, 'bob');
  assert.equal(outcome.state, 'ended', JSON.stringify(outcome));
  assert.equal(outcome.endCause, 'failure', JSON.stringify(outcome));
  assert.equal(outcome.errorDomain, 'network', JSON.stringify(outcome));
  assert.equal(outcome.errorCode, 'no-media-path', JSON.stringify(outcome));
  assert.ok(outcome.ms <= ESTABLISH_TIMEOUT + 3000, `ended after ${outcome.ms} ms`);
  await Promise.all([alice.close(), bob.close()]);
});
