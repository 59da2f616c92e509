// Mutated SIP messages, shared by the gateway fuzz test (test/node/gateway-fuzz.test.ts) and the spray benchmark
// (bench/sip-spray.ts): what a scanner or a broken peer sends at a SIP port.
import fc from 'fast-check';

/** A valid INVITE (RFC 3261 style, with SDP and a digest challenge header): the base the mutations damage. */
export const INVITE = Buffer.from([
  'INVITE sip:bob@127.0.0.1:5060;transport=udp SIP/2.0',
  'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds;rport',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@biloxi.example.com>',
  'From: "Alice \\"A\\"" <sip:alice@atlanta.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@pc33.atlanta.example.com>',
  'WWW-Authenticate: Digest realm="r", nonce="n", algorithm=SHA-256, qop="auth"',
  'Content-Type: application/sdp',
  'Content-Length: 142',
  '',
  'v=0\r\no=alice 2890844526 2890844526 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n',
].join('\r\n'));

/** A valid message with random damage: flipped/inserted/deleted bytes, truncation, a huge or repeated header. */
export function mutated(base: Buffer): fc.Arbitrary<Buffer> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 12 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('huge' as const), size: fc.integer({ min: 1000, max: 70_000 }) }),
    fc.record({ kind: fc.constant('crlf' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('token' as const), at: fc.nat(), text: fc.constantFrom(':', ';', ',', '"', '<', '>', '\r\n ', '=', '@', 'Content-Length: 99999\r\n', 'Via: \r\n', '\\') }),
  );
  return fc.array(edit, { minLength: 1, maxLength: 6 }).map((edits) => {
    let b = Buffer.from(base);
    for (const e of edits) {
      const at = 'at' in e ? e.at % (b.length + 1) : 0;
      if (e.kind === 'flip' && b.length) b[at % b.length] = e.byte;
      else if (e.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from(e.bytes), b.subarray(at)]);
      else if (e.kind === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.length)]);
      else if (e.kind === 'truncate') b = b.subarray(0, at);
      else if (e.kind === 'huge') b = Buffer.concat([b.subarray(0, 40), Buffer.from(`X-Huge: ${'a'.repeat(e.size)}\r\n`), b.subarray(40)]);
      else if (e.kind === 'crlf') b = Buffer.concat([b.subarray(0, at), Buffer.from('\r\n'), b.subarray(at)]);
      else if (e.kind === 'token') b = Buffer.concat([b.subarray(0, at), Buffer.from(e.text), b.subarray(at)]);
    }
    return b;
  });
}

/**
 * The spray: `count` mutated INVITEs for an unknown user, cut to 1500 bytes (one Ethernet frame), the same ones every
 * time (fixed seed). Generating 2,000 takes ~0.6 s of the event loop: make them before the call you measure.
 */
export function sipJunk(count = 2000, seed = 42): Buffer[] {
  return fc.sample(mutated(Buffer.from(INVITE.toString().replace('bob@', 'no.such.user@'))), { numRuns: count, seed }).map((b) => b.subarray(0, 1500));
}
