// Locating SIP servers (RFC 3263): `user@domain` without a port goes through NAPTR → SRV → A, served by a dnsmasq the
// test starts on 127.0.0.1; the first SRV target is dead (or answers 503) and the call fails over to the second.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { FAILOVER_TIMEOUT } from '../../src/server/gateway/sip/ua.js';
import { call, freeUdpPort, once, sleep, startEnv, startSipp } from './gateway-harness.js';

const DNSMASQ = '/usr/sbin/dnsmasq';

/** dnsmasq answering only the given records (no upstream, no /etc/hosts), on a free port; resolves once it answers. */
async function startDns(records: string[]): Promise<{ server: string; stop(): void }> {
  const port = await freeUdpPort();
  const child = spawn(DNSMASQ, [
    '--no-daemon', '--conf-file=/dev/null', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces',
    '--no-resolv', '--no-hosts', '--pid-file=', '--user=root', ...records,
  ], { stdio: 'ignore' });
  const server = `127.0.0.1:${port}`;
  const probe = new Resolver({ timeout: 300, tries: 1 });
  probe.setServers([server]);
  for (let i = 0; ; i++) {
    try {
      await probe.resolve4('live.carrier.test');
      break;
    } catch (e) {
      if (i > 40 || child.exitCode !== null) {
        child.kill();
        throw new Error(`dnsmasq did not start: ${String(e)}`);
      }
      await sleep(150);
    }
  }
  return { server, stop: () => { if (child.exitCode === null) child.kill('SIGTERM'); } };
}

const hosts = ['--host-record=dead.carrier.test,127.0.0.1', '--host-record=live.carrier.test,127.0.0.1'];

test('NAPTR → SRV (UDP): the first target never answers, the call fails over to the second and is answered', { timeout: 60_000 }, async () => {
  const live = await startSipp('answer.xml');
  const dead = await freeUdpPort(); // nothing listens there
  const dns = await startDns([
    ...hosts,
    '--naptr-record=carrier.test,10,50,s,SIP+D2U,,_sip._udp.carrier.test',
    `--srv-host=_sip._udp.carrier.test,dead.carrier.test,${dead},10,0`,
    `--srv-host=_sip._udp.carrier.test,live.carrier.test,${live.port},20,0`,
  ]);
  const logs: string[] = [];
  const env = await startEnv({ dnsServers: [dns.server], log: (m) => logs.push(m) });
  try {
    const s = call(env, 'sip', 'bob@carrier.test');
    const t0 = Date.now();
    await once(s, 'answer');
    const took = Date.now() - t0;
    assert.ok(took >= FAILOVER_TIMEOUT - 100 && took < FAILOVER_TIMEOUT + 5000, `answered after ${took} ms`);
    assert.ok(logs.some((l) => l.includes(`127.0.0.1:${dead} failed`) && l.includes(`trying 127.0.0.1:${live.port}`)), logs.join('\n'));
    s.hangup('hungUp');
    assert.equal(await live.done, 0);
    assert.match(live.messages(), /^INVITE sip:bob@carrier\.test SIP\/2\.0/m);
  } finally {
    live.stop();
    dns.stop();
    await env.close();
  }
});

test('SRV without NAPTR: a 503 from the first target fails over at once', { timeout: 60_000 }, async () => {
  const busy = await startSipp('reject.xml', {}, { fill: { status: '503', reason: 'Service Unavailable' } });
  const live = await startSipp('answer.xml');
  const dns = await startDns([
    ...hosts,
    `--srv-host=_sip._udp.carrier.test,dead.carrier.test,${busy.port},10,0`,
    `--srv-host=_sip._udp.carrier.test,live.carrier.test,${live.port},20,0`,
  ]);
  const env = await startEnv({ dnsServers: [dns.server] });
  try {
    const s = call(env, 'sip', 'bob@carrier.test');
    const t0 = Date.now();
    await once(s, 'answer');
    assert.ok(Date.now() - t0 < FAILOVER_TIMEOUT, 'no waiting for a timeout');
    assert.equal(await busy.done, 0, 'the 503 was ACKed');
    s.hangup('hungUp');
    assert.equal(await live.done, 0);
  } finally {
    busy.stop();
    live.stop();
    dns.stop();
    await env.close();
  }
});

test('NAPTR offering TCP only: SRV _sip._tcp, the refused first target is skipped, sipp -t t1 answers', { timeout: 60_000 }, async () => {
  const live = await startSipp('answer.xml', {}, { transport: 't1' });
  const refused = await freeUdpPort();
  const dns = await startDns([
    ...hosts,
    '--naptr-record=carrier.test,10,50,s,SIP+D2T,,_sip._tcp.carrier.test',
    `--srv-host=_sip._tcp.carrier.test,dead.carrier.test,${refused},10,0`,
    `--srv-host=_sip._tcp.carrier.test,live.carrier.test,${live.port},20,0`,
  ]);
  const env = await startEnv({ dnsServers: [dns.server] });
  try {
    const s = call(env, 'sip', 'bob@carrier.test');
    const t0 = Date.now();
    await once(s, 'answer');
    assert.ok(Date.now() - t0 < FAILOVER_TIMEOUT, 'a refused connection fails over at once');
    s.hangup('hungUp');
    assert.equal(await live.done, 0);
    assert.match(live.messages(), /TCP message received \[\d+\] bytes :\r?\n\r?\nINVITE sip:bob@carrier\.test/);
  } finally {
    live.stop();
    dns.stop();
    await env.close();
  }
});
