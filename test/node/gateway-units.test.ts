// Unit tests of the gateway's pieces: SIP parsing/serializing (the defects npm `sip` has), digest, SDP, RTP,
// jitter buffer, downsampler, status mapping; and a 407 proxy challenge against a scripted UDP peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { authorize, parseChallenge } from '../../src/server/gateway/sip/digest.js';
import { getHeader, getHeaders, parseMessage, parseNameAddr, serialize, type SipRequest } from '../../src/server/gateway/sip/message.js';
import { newBranch, SipStack } from '../../src/server/gateway/sip/stack.js';
import { SipUA } from '../../src/server/gateway/sip/ua.js';
import { buildSdp, holdDirection, LocalSdp, parseSdp } from '../../src/server/gateway/media/sdp.js';
import { buildRtp, JitterBuffer, parseRtp } from '../../src/server/gateway/media/rtp.js';
import { Downsampler, toneShare } from '../../src/server/gateway/media/dsp.js';
import { mapSipStatus } from '../../src/server/gateway/gateway.js';

test('Content-Length counts bytes, not characters, and UTF-8 header values survive', () => {
  const body = Buffer.from('v=0\r\ns=héllo\r\n');
  const m: SipRequest = { kind: 'request', method: 'INVITE', uri: 'sip:bob@127.0.0.1', headers: [['x-name', 'Zoë'], ['call-id', 'a']], body };
  const wire = serialize(m);
  assert.match(wire.toString(), new RegExp(`Content-Length: ${body.length}\\r\\n`));
  assert.equal(body.length, 15); // 14 characters
  const back = parseMessage(wire);
  assert.ok(back && back.kind === 'request');
  assert.equal(getHeader(back, 'x-name'), 'Zoë');
  assert.deepEqual(back.body, body);
});

test('the serializer refuses CR/LF and control characters in header values and non-token names', () => {
  const base = (headers: SipRequest['headers']): SipRequest => ({ kind: 'request', method: 'OPTIONS', uri: 'sip:a@b', headers, body: Buffer.alloc(0) });
  assert.throws(() => serialize(base([['x-a', 'ok\r\nInjected: 1']])), /unsafe/);
  assert.throws(() => serialize(base([['x-a', 'nul\u0000']])), /unsafe/);
  assert.throws(() => serialize(base([['x a', 'v']])), /unsafe/);
  assert.throws(() => serialize(base([['x-a:b', 'v']])), /unsafe/);
  assert.doesNotThrow(() => serialize(base([['x-a', 'tab\tis fine']])));
});

test('branches carry 64 random bits after the magic cookie (npm sip used 6 digits)', () => {
  const b = new Set(Array.from({ length: 1000 }, () => newBranch()));
  assert.equal(b.size, 1000);
  for (const x of b) assert.match(x, /^z9hG4bK[0-9a-f]{16}$/);
});

test('compact headers, folded lines, lists and name-addr parsing', () => {
  const raw = 'SIP/2.0 200 OK\r\nv: SIP/2.0/UDP a:1;branch=z9hG4bK1, SIP/2.0/UDP b:2;branch=z9hG4bK2\r\nf: "A, B" <sip:a@x>;tag=1\r\nt: <sip:b@y>\r\n ;tag=2\r\ni: c1\r\nRecord-Route: <sip:p1;lr>, <sip:p2;lr>\r\nl: 0\r\n\r\n';
  const m = parseMessage(Buffer.from(raw));
  assert.ok(m && m.kind === 'response');
  assert.equal(getHeaders(m, 'via').length, 2);
  assert.equal(getHeader(m, 'call-id'), 'c1');
  assert.equal(parseNameAddr(getHeader(m, 'to') ?? '')?.params.tag, '2');
  assert.equal(parseNameAddr(getHeader(m, 'from') ?? '')?.display, 'A, B');
  assert.deepEqual(getHeaders(m, 'record-route'), ['<sip:p1;lr>', '<sip:p2;lr>']);
  assert.equal(parseMessage(Buffer.from('garbage\r\n\r\n')), undefined);
  assert.equal(parseMessage(Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 99\r\n\r\nshort')), undefined);
});

test('digest: RFC 2617 reference response (qop=auth) and the no-qop form', () => {
  const ch = parseChallenge('Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"');
  assert.ok(ch);
  const value = authorize(ch, 'GET', '/dir/index.html', 'Mufasa', 'Circle Of Life');
  const cnonce = /cnonce="([^"]+)"/.exec(value)![1];
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const ha1 = md5('Mufasa:testrealm@host.com:Circle Of Life');
  const expected = md5(`${ha1}:dcd98b7102dd2f0e8b11d0f600bfb0c093:00000001:${cnonce}:auth:${md5('GET:/dir/index.html')}`);
  assert.match(value, new RegExp(`response="${expected}"`));
  assert.match(value, /opaque="5ccc069c403ebaf9f0171e9517f40e41"/);
  const plain = authorize(parseChallenge('Digest realm="r", nonce="n"')!, 'INVITE', 'sip:b@h', 'u', 'p');
  assert.match(plain, new RegExp(`response="${md5(`${md5('u:r:p')}:n:${md5('INVITE:sip:b@h')}`)}"`));
  assert.doesNotMatch(plain, /qop=/);
});

test('SDP: offer has PCMU, PCMA, telephone-event; answers pick the first shared codec', () => {
  const offer = buildSdp({ address: '127.0.0.1', port: 40000, sessionId: '1', version: 1, codecs: ['PCMU', 'PCMA'], dtmfPayloadType: 101 }).toString();
  assert.match(offer, /m=audio 40000 RTP\/AVP 0 8 101\r\n/);
  assert.match(offer, /a=rtpmap:101 telephone-event\/8000/);
  const answer = 'v=0\r\no=x 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\nm=audio 5004 RTP/AVP 8 0 96\r\na=rtpmap:96 telephone-event/8000\r\na=sendrecv\r\n';
  assert.deepEqual(parseSdp(Buffer.from(answer)), { address: '10.0.0.2', port: 5004, codec: 'PCMA', payloadType: 8, direction: 'sendrecv', rtcpPort: 5005, dtmfPayloadType: 96 });
  assert.equal(parseSdp(Buffer.from(answer.replace('8 0 96', '18 96'))), undefined);
});

test('SDP across hold (RFC 3264 §8.4): our offers and answers from both sides\' hold, o= version + 1 on each change only', () => {
  const dir = (b: Buffer) => /^a=(sendrecv|sendonly|recvonly|inactive)\r?$/m.exec(b.toString())?.[1];
  const version = (b: Buffer) => Number(/^o=\S+ \S+ (\d+)/m.exec(b.toString())?.[1]);
  const ours = buildSdp({ address: '127.0.0.1', port: 4000, sessionId: '7', version: 1, codecs: ['PCMU', 'PCMA'], dtmfPayloadType: 101 });
  const far = (d: string) => Buffer.from(`v=0\r\no=far 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\na=${d}\r\n`);
  assert.deepEqual([holdDirection(false, false), holdDirection(true, false), holdDirection(false, true), holdDirection(true, true)], ['sendrecv', 'sendonly', 'recvonly', 'inactive']);
  const local = new LocalSdp(ours);
  const hold = local.offer(true);
  assert.equal(dir(hold), 'sendonly');
  assert.equal(version(hold), 2);
  assert.equal(hold.toString().replace(/ 2 IN IP4/, ' 1 IN IP4').replace('a=sendonly', 'a=sendrecv'), ours.toString(), 'only the direction and the version change');
  assert.equal(version(local.offer(true)), 2, 'the same offer again (after a 491) keeps its version');
  // While we hold, the far end's offers are answered without receiving.
  assert.equal(dir(local.answer(far('sendrecv')).sdp), 'sendonly');
  const both = local.answer(far('sendonly'));
  assert.deepEqual([dir(both.sdp), both.onHold], ['inactive', true]);
  // We resume while the far end still holds us: recvonly, not sendrecv.
  assert.equal(dir(local.offer(false)), 'recvonly');
  const resumed = local.answer(far('sendrecv'));
  assert.deepEqual([dir(resumed.sdp), resumed.onHold, version(resumed.sdp)], ['sendrecv', false, 5]);
});

test('RTP round trip and the jitter buffer: reordering, loss concealment, prefill, overflow', () => {
  const p = { payloadType: 0, marker: true, seq: 65535, timestamp: 0xfffffff0, ssrc: 1234, payload: Buffer.alloc(160, 0xff) };
  assert.deepEqual(parseRtp(buildRtp(p)), p);
  const jb = new JitterBuffer(3, 12);
  const pkt = (v: number) => new Int16Array(160).fill(v);
  jb.push(65534, pkt(1));
  jb.push(0, pkt(3)); // wraps; 65535 is missing for now
  assert.equal(jb.pull10()[0], 0, 'still prefilling');
  jb.push(65535, pkt(2)); // late but in time
  jb.pull10();
  const seen: number[] = [];
  for (let i = 0; i < 6; i++) seen.push(jb.pull10()[0]);
  assert.deepEqual(seen, [1, 1, 2, 2, 3, 3]);
  jb.push(2, pkt(5)); // seq 1 lost
  jb.push(3, pkt(6));
  jb.push(4, pkt(7));
  const after: number[] = [];
  for (let i = 0; i < 4; i++) after.push(jb.pull10()[0]);
  assert.deepEqual(after, [1, 1, 5, 5], 'the lost packet is concealed at half the previous level');
  assert.equal(jb.stats.lost, 1);
  jb.push(1, pkt(9));
  assert.equal(jb.stats.late, 1);
});

test('the downsampler keeps a 1 kHz tone, removes a 6 kHz one, and handles 16 → 48 kHz rate changes', () => {
  const ds = new Downsampler();
  const gen = (f: number, rate: number, n: number, off: number) => Int16Array.from({ length: n }, (_, i) => Math.round(10000 * Math.sin((2 * Math.PI * f * (off + i)) / rate)));
  const out: number[] = [];
  out.push(...ds.process(gen(1000, 16000, 160, 0), 16000));
  for (let k = 0; k < 50; k++) out.push(...ds.process(gen(1000, 48000, 480, k * 480), 48000));
  assert.equal(out.length, 80 + 50 * 80);
  const tail = Int16Array.from(out.slice(-2000));
  assert.ok(toneShare(tail, 8000, 1000) > 0.9);
  const hi = new Downsampler();
  const hiOut: number[] = [];
  for (let k = 0; k < 20; k++) hiOut.push(...hi.process(gen(6000, 48000, 480, k * 480), 48000));
  const peak = Math.max(...hiOut.slice(200).map(Math.abs));
  assert.ok(peak < 1500, `6 kHz leaks at ${peak}`);
});

test('SIP status → end cause', () => {
  assert.equal(mapSipStatus(486).cause, 'denied');
  assert.equal(mapSipStatus(404).cause, 'unavailable');
  assert.equal(mapSipStatus(408).cause, 'noAnswer');
  assert.equal(mapSipStatus(480).cause, 'noAnswer');
  assert.equal(mapSipStatus(500).cause, 'failure');
  assert.equal(mapSipStatus(604).cause, 'unavailable');
  assert.equal(mapSipStatus(606).cause, 'failure');
});

test('407 proxy challenge: the INVITE is retried with Proxy-Authorization that a proxy verifies', { timeout: 15_000 }, async () => {
  // A scripted proxy on our own stack: 407 first, then checks the digest and answers 200.
  const proxy = await SipStack.create({ port: 0 });
  const ua = await SipStack.create({ port: 0 });
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const seen: string[] = [];
  proxy.on('request', (req, tx) => {
    seen.push(req.method);
    if (req.method === 'ACK') return;
    if (req.method === 'INVITE') {
      const auth = getHeader(req, 'proxy-authorization');
      if (!auth) {
        tx.respond(407, 'Proxy Authentication Required', { toTag: 'p1', headers: [['proxy-authenticate', 'Digest realm="proxy.test", nonce="abc123", algorithm=MD5']] });
        return;
      }
      const f = Object.fromEntries([...auth.matchAll(/(\w+)="?([^",]+)"?/g)].map((m) => [m[1], m[2]]));
      const ok = f.username === 'alice' && f.response === md5(`${md5('alice:proxy.test:pw')}:abc123:${md5(`INVITE:${f.uri}`)}`);
      tx.respond(ok ? 200 : 403, ok ? 'OK' : 'Forbidden', {
        toTag: 'p2',
        headers: [['contact', `<sip:bob@127.0.0.1:${proxy.port}>`], ['content-type', 'application/sdp']],
        body: buildSdp({ address: '127.0.0.1', port: 9, sessionId: '1', version: 1, codecs: ['PCMU'], dtmfPayloadType: 101 }),
      });
    } else tx.respond(200, 'OK');
  });
  try {
    const call = new SipUA(ua).invite({
      requestUri: `sip:bob@127.0.0.1:${proxy.port}`, dest: { host: '127.0.0.1', port: proxy.port }, fromUser: 'alice',
      sdp: buildSdp({ address: '127.0.0.1', port: 9, sessionId: '1', version: 1, codecs: ['PCMU'], dtmfPayloadType: 101 }),
      credentials: { username: 'alice', password: 'pw' },
    });
    await new Promise<void>((resolve, reject) => {
      call.once('answered', () => resolve());
      call.once('end', (e) => reject(new Error(`ended ${e.status}`)));
    });
    call.hangup();
    await new Promise((r) => setTimeout(r, 200));
    // The 407's ACK matches its INVITE server transaction and is absorbed there; the 2xx ACK reaches the core.
    assert.deepEqual(seen, ['INVITE', 'INVITE', 'ACK', 'BYE']);
  } finally {
    await ua.close();
    await proxy.close();
  }
});

test('configuration from environment variables, with readable errors', async () => {
  const { gatewayConfigFromEnv } = await import('../../src/server/gateway/config.js');
  assert.deepEqual(gatewayConfigFromEnv({}), { sipHost: '127.0.0.1', sipPort: 5060, ringTimeout: 60_000, maxCallsPerMinute: 10, browserCodec: 'pcmu', invitesPerMinute: 60, blockedNumberTypes: ['PREMIUM_RATE'] });
  assert.equal(gatewayConfigFromEnv({ GATEWAY_BROWSER_CODEC: 'Opus' }).browserCodec, 'opus');
  assert.throws(() => gatewayConfigFromEnv({ GATEWAY_BROWSER_CODEC: 'g722' }), /GATEWAY_BROWSER_CODEC/);
  const c = gatewayConfigFromEnv({
    SIP_HOST: '0.0.0.0', SIP_PUBLIC_HOST: '203.0.113.5', SIP_PORT: '5070', SIP_OUTBOUND_PROXY: 'sbc.example:5080',
    SIP_USERNAME: 'u', SIP_PASSWORD: 'p', SIP_TRUNK: 'trunk.example', SIP_TRUNK_USERNAME: 't', SIP_TRUNK_PASSWORD: 'tp',
    SIP_ALLOWED_PREFIXES: '+46, +47', RTP_PORT_MIN: '30000', RTP_PORT_MAX: '30100', SIP_RING_TIMEOUT: '30',
  });
  assert.deepEqual(c.outboundProxy, { host: 'sbc.example', port: 5080 });
  assert.deepEqual(c.trunk, { host: 'trunk.example', port: 5060, credentials: { username: 't', password: 'tp' } });
  assert.deepEqual(c.allowedPrefixes, ['+46', '+47']);
  assert.deepEqual(c.rtpPorts, { min: 30000, max: 30100 });
  assert.equal(c.publicHost, '203.0.113.5');
  assert.equal(c.ringTimeout, 30_000);
  assert.throws(() => gatewayConfigFromEnv({ SIP_HOST: '0.0.0.0' }), /SIP_PUBLIC_HOST/);
  assert.throws(() => gatewayConfigFromEnv({ SIP_PORT: 'x' }), /SIP_PORT/);
  assert.throws(() => gatewayConfigFromEnv({ SIP_ALLOWED_PREFIXES: '46' }), /E\.164/);
  assert.throws(() => gatewayConfigFromEnv({ SIP_TRUNK: 'a:b:c' }), /SIP_TRUNK/);
});

test('browser-leg SDP: audio codecs reduced to PCMU (rtpmap/fmtp/rtcp-fb of the others dropped); no PCMU → unchanged', async () => {
  const { restrictAudioCodecs } = await import('../../src/server/node-peer/sdp-codecs.js');
  const offer = [
    'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 0 8 126', 'c=IN IP4 0.0.0.0', 'a=mid:0',
    'a=rtpmap:111 opus/48000/2', 'a=rtcp-fb:111 transport-cc', 'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=rtpmap:63 red/48000/2', 'a=fmtp:63 111/111', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:126 telephone-event/8000', 'a=sendrecv', 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=mid:1', '',
  ].join('\r\n');
  const out = restrictAudioCodecs(offer, ['PCMU']);
  assert.match(out, /^m=audio 9 UDP\/TLS\/RTP\/SAVPF 0\r$/m);
  assert.doesNotMatch(out, /opus|red\/|PCMA|telephone-event|a=fmtp:111|a=rtcp-fb:111/);
  assert.match(out, /^a=rtpmap:0 PCMU\/8000\r$/m);
  assert.match(out, /^a=sendrecv\r$/m);
  assert.match(out, /^m=application 9 UDP\/DTLS\/SCTP webrtc-datachannel\r$/m);
  assert.ok(out.endsWith('\r\n'));
  assert.equal(restrictAudioCodecs(offer.replace(/ 0 8 126/, ' 126').replace(/a=rtpmap:0 PCMU\/8000\r\n/, ''), ['PCMU']).includes('111'), true);
});
