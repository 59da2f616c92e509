// RTP as carriers and PBXs use it: a new SSRC starts the jitter buffer over, symmetric RTP for far ends behind NAT,
// RTCP reports both ways, hold by re-INVITE (sipp as the PBX), and the inactivity timeout for a far end that vanished.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { buildRtp, parseRtp, RtpSession } from '../../src/server/gateway/media/rtp.js';
import { buildReport, parseRtcp, ReceptionStats } from '../../src/server/gateway/media/rtcp.js';
import { parseSdp, type RemoteAudio } from '../../src/server/gateway/media/sdp.js';
import type { SessionEnd } from '../../src/server/node-peer/index.js';
import { call, freeUdpPort, once, playTone, sleep, startEnv, startSipp } from './gateway-harness.js';

async function udp(port = 0): Promise<Socket & { got: Buffer[]; from: Array<{ port: number }> }> {
  const s = createSocket('udp4') as Socket & { got: Buffer[]; from: Array<{ port: number }> };
  s.got = [];
  s.from = [];
  s.on('message', (b, r) => { s.got.push(b); s.from.push({ port: r.port }); });
  await new Promise<void>((r) => s.bind(port, '127.0.0.1', () => r()));
  return s;
}

const remoteAt = (port: number, rtcpPort = port + 1): RemoteAudio => ({
  address: '127.0.0.1', port, rtcpPort, codec: 'PCMU', payloadType: 0, direction: 'sendrecv',
});
const pcmuPacket = (ssrc: number, seq: number, ts: number, level: number) =>
  buildRtp({ payloadType: 0, marker: false, seq, timestamp: ts, ssrc, payload: Buffer.alloc(160, level) });

test('a new SSRC (another media server, lower sequence numbers) is played, not dropped as late', async () => {
  const rtp = await RtpSession.open('127.0.0.1');
  const a = await udp();
  const b = await udp();
  try {
    rtp.setRemote(remoteAt(a.address().port));
    const send = (s: Socket, ssrc: number, seq0: number, n: number, level: number) => {
      for (let i = 0; i < n; i++) s.send(pcmuPacket(ssrc, seq0 + i, i * 160, level), rtp.localPort, '127.0.0.1');
    };
    send(a, 111, 30_000, 5, 0x80); // µ-law 0x80: loud positive
    await sleep(100);
    const first = rtp.jitter.pull10();
    for (let i = 0; i < 9; i++) rtp.jitter.pull10();
    assert.ok(first[0] > 8000, 'stream A plays');
    send(b, 222, 100, 5, 0x00); // µ-law 0x00: loud negative; seq far "behind" A's
    await sleep(100);
    const heard: number[] = [];
    for (let i = 0; i < 10; i++) heard.push(rtp.jitter.pull10()[0]);
    assert.ok(heard.some((v) => v < -8000), `stream B plays: ${heard.join(',')}`);
    assert.equal(rtp.stats.jitter.late, 0);
    assert.equal(rtp.stats.ssrcChanges, 1);
    assert.equal(rtp.stats.jitter.resets, 1);
  } finally {
    rtp.close();
    a.close();
    b.close();
  }
});

test('symmetric RTP: we send to where the far end\'s packets come from, and a stray packet cannot steal the stream', async () => {
  const rtp = await RtpSession.open('127.0.0.1');
  const sdpAddr = await udp(); // what the SDP says (a private address behind NAT, in real life)
  const nat = await udp(); // where the packets really come from
  const stray = await udp();
  try {
    const latched: number[] = [];
    rtp.on('latched', (e) => latched.push(e.port));
    rtp.setRemote(remoteAt(sdpAddr.address().port));
    rtp.tick20();
    await sleep(50);
    assert.equal(sdpAddr.got.length, 1, 'before any RTP arrives: to the SDP address');
    nat.send(pcmuPacket(5, 1, 0, 0xff), rtp.localPort, '127.0.0.1');
    await sleep(50);
    for (let i = 0; i < 3; i++) rtp.tick20();
    stray.send(pcmuPacket(6, 1, 0, 0xff), rtp.localPort, '127.0.0.1');
    await sleep(50);
    rtp.tick20();
    await sleep(50);
    assert.equal(sdpAddr.got.length, 1);
    assert.equal(nat.got.length, 4, 'every later packet went to the real source');
    assert.equal(stray.got.length, 0);
    assert.deepEqual(latched, [nat.address().port]);
    assert.ok(parseRtp(nat.got[0]));
  } finally {
    rtp.close();
    sdpAddr.close();
    nat.close();
    stray.close();
  }
});

test('RTCP: a sender report with our counts and a report block on the far end\'s stream; its reports about us are read', async () => {
  const rtp = await RtpSession.open('127.0.0.1');
  // The far end's RTP/RTCP pair: an even port and the one above it.
  let far: Awaited<ReturnType<typeof udp>>;
  let farRtcp: Awaited<ReturnType<typeof udp>> | undefined;
  do {
    far = await udp(await freeUdpPort());
    farRtcp = await udp(far.address().port + 1).catch(() => undefined);
    if (!farRtcp) far.close();
  } while (!farRtcp);
  try {
    rtp.setRemote(remoteAt(far.address().port));
    for (let i = 0; i < 10; i++) rtp.tick20();
    // 8 of 10 packets from the far end arrive (two lost).
    for (const seq of [1, 2, 3, 5, 6, 7, 9, 10]) far.send(pcmuPacket(0xabc, seq, seq * 160, 0xff), rtp.localPort, '127.0.0.1');
    await sleep(100);
    rtp.sendRtcp(false);
    await sleep(100);
    const packets = parseRtcp(farRtcp.got[0]);
    assert.ok(packets, 'a valid compound packet');
    const sr = packets[0];
    assert.equal(sr.type, 'sr');
    assert.ok(sr.type === 'sr');
    assert.equal(sr.packets, 10);
    assert.equal(sr.octets, 1600);
    assert.equal(sr.reports[0].ssrc, 0xabc);
    assert.equal(sr.reports[0].cumulativeLost, 2);
    assert.equal(sr.reports[0].highestSeq, 10);
    assert.equal(sr.reports[0].fractionLost, Math.floor((2 * 256) / 10));
    assert.equal(packets[1].type, 'sdes');
    const reports: number[] = [];
    rtp.on('remoteReport', (b) => reports.push(b.cumulativeLost));
    const ourSsrc = parseRtp(far.got[0])!.ssrc;
    farRtcp.send(buildReport({ ssrc: 0xabc, cname: 'far', blocks: [{ ssrc: ourSsrc, fractionLost: 0, cumulativeLost: 3, highestSeq: 10, jitter: 4, lsr: 0, dlsr: 0 }] }), rtp.localPort + 1, '127.0.0.1');
    await sleep(100);
    assert.deepEqual(reports, [3]);
    assert.equal(rtp.stats.rtcpReceived, 1);
    rtp.close();
    await sleep(50);
    assert.ok(parseRtcp(farRtcp.got.at(-1)!)?.some((p) => p.type === 'bye'), 'an RTCP BYE when the stream ends');
  } finally {
    rtp.close();
    far.close();
    farRtcp.close();
  }
});

test('reception statistics follow RFC 3550 A.3 across a sequence wrap', () => {
  const r = new ReceptionStats(1, 65534);
  for (const [i, seq] of [65534, 65535, 1, 2].entries()) r.update(seq, i * 160, i * 20);
  const b = r.block(100);
  assert.equal(b.highestSeq, 65536 + 2);
  assert.equal(b.cumulativeLost, 1, 'seq 0 missing');
  assert.equal(b.jitter, 0, 'perfectly paced');
});

test('hold by re-INVITE (sendonly): we answer recvonly, stop sending, log it; sendrecv resumes sending', { timeout: 30_000 }, async () => {
  const logs: string[] = [];
  const env = await startEnv({ log: (m) => logs.push(m) });
  const sipp = await startSipp('hold.xml');
  const waitLog = async (re: RegExp) => {
    for (let i = 0; i < 100 && !logs.some((l) => re.test(l)); i++) await sleep(50);
    assert.ok(logs.some((l) => re.test(l)), `log ${re}`);
  };
  try {
    const s = call(env, 'sip', `bob@127.0.0.1:${sipp.port}`);
    await once(s, 'answer');
    const stop = playTone(s, 500);
    const sent = () => env.gateway.stats().rtp[0]?.sent ?? 0;
    await waitLog(/put the call on hold/);
    await sleep(200);
    const heldAt = sent();
    await sleep(800);
    assert.equal(sent(), heldAt, 'nothing sent while held');
    assert.ok((env.gateway.stats().rtp[0]?.heldBack ?? 0) > 30);
    await waitLog(/resumed the call/);
    await sleep(400);
    assert.ok(sent() > heldAt + 10, 'sending again after the resume');
    const end = await once<SessionEnd>(s, 'end');
    stop();
    assert.equal(end.cause, 'hungUp');
    assert.equal(await sipp.done, 0, 'sipp saw recvonly, then sendrecv, in our answers');
  } finally {
    sipp.stop();
    await env.close();
  }
});

test('RTP inactivity: a far end whose media stops without BYE ends the call as failure (sip error) and gets our BYE', { timeout: 30_000 }, async () => {
  const env = await startEnv({ rtpTimeout: 1500 });
  const silent = await freeUdpPort(); // the SDP points media at a port where nobody sends from
  const sipp = await startSipp('answer.xml', {}, { rtpEcho: false, mport: silent });
  try {
    const s = call(env, 'sip', `bob@127.0.0.1:${sipp.port}`);
    await once(s, 'answer');
    const t0 = Date.now();
    const end = await once<SessionEnd>(s, 'end', 10_000);
    const took = Date.now() - t0;
    assert.equal(end.cause, 'failure');
    assert.equal(end.error?.domain, 'sip');
    assert.equal(end.error?.code, 'media-timeout');
    assert.ok(took >= 1400 && took < 4000, `ended after ${took} ms`);
    assert.equal(await sipp.done, 0, 'sipp got our BYE');
  } finally {
    sipp.stop();
    await env.close();
  }
});

test('RTP inactivity does not end a call whose media flows', { timeout: 30_000 }, async () => {
  const env = await startEnv({ rtpTimeout: 800 });
  const sipp = await startSipp('answer.xml');
  try {
    const s = call(env, 'sip', `bob@127.0.0.1:${sipp.port}`);
    await once(s, 'answer');
    const stop = playTone(s, 440);
    await sleep(2500);
    stop();
    assert.equal(s.ended, undefined, 'still up after three timeouts\' worth of echoed RTP');
    s.hangup('hungUp');
    assert.equal(await sipp.done, 0);
  } finally {
    sipp.stop();
    await env.close();
  }
});

test('SDP: a=rtcp, session-level direction and c=0.0.0.0 hold are read', () => {
  const base = 'v=0\r\no=x 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n';
  const a = parseSdp(Buffer.from(`${base}a=sendonly\r\nm=audio 5004 RTP/AVP 0\r\na=rtcp:6000\r\n`))!;
  assert.equal(a.direction, 'sendonly');
  assert.equal(a.rtcpPort, 6000);
  const b = parseSdp(Buffer.from(`${base.replace('10.0.0.2', '0.0.0.0')}m=audio 5004 RTP/AVP 0\r\n`))!;
  assert.equal(b.direction, 'inactive');
});
