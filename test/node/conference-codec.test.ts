// The conference legs' codec setting (CONFERENCE_CODEC): validation, what each value restricts the SDP to, and how
// the negotiated codec is read back from an answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecFromEnv, limitsFromEnv } from '../../src/server/conference/index.js';
import { CONFERENCE_CODECS, DEFAULT_CODEC, audioCodecsFor, isConferenceCodec } from '../../src/server/conference/types.js';
import { firstAudioCodec, restrictAudioCodecs } from '../../src/server/node-peer/sdp-codecs.js';

// The audio section of an offer Chromium 156 makes for a microphone track (as seen in the browser tests).
const CHROMIUM_OFFER = [
  'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 0.0.0.0', 'a=mid:0', 'a=sendrecv',
  'a=rtpmap:111 opus/48000/2', 'a=rtcp-fb:111 transport-cc', 'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2', 'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000', 'a=rtpmap:126 telephone-event/8000', '',
].join('\r\n');

test('CONFERENCE_CODEC: opus, g722 or pcmu (any case); empty or unset is the default; anything else is refused at startup', () => {
  assert.equal(codecFromEnv({}), DEFAULT_CODEC);
  assert.equal(codecFromEnv({ CONFERENCE_CODEC: '' }), DEFAULT_CODEC);
  for (const c of CONFERENCE_CODECS) assert.equal(codecFromEnv({ CONFERENCE_CODEC: c.toUpperCase() }), c);
  for (const bad of ['g711', 'opus ', 'G.722', 'l16']) {
    assert.throws(() => codecFromEnv({ CONFERENCE_CODEC: bad }), RangeError);
    // `npm start` reads the limits first: a bad codec stops it there, like a bad limit.
    assert.throws(() => limitsFromEnv({ CONFERENCE_CODEC: bad }), /CONFERENCE_CODEC must be one of opus, g722, pcmu/);
  }
  assert.deepEqual(limitsFromEnv({ CONFERENCE_CODEC: 'g722', CONFERENCE_MAX_ROOMS: '3' }), { maxRooms: 3 });
  assert.equal(isConferenceCodec('g722'), true);
  assert.equal(isConferenceCodec('G722'), false);
});

test('each setting restricts a browser offer to its codec; opus leaves it alone; the answer names the codec', () => {
  assert.deepEqual(audioCodecsFor('opus'), []);
  const g722 = restrictAudioCodecs(CHROMIUM_OFFER, audioCodecsFor('g722'));
  assert.match(g722, /^m=audio 9 UDP\/TLS\/RTP\/SAVPF 9\r$/m);
  assert.doesNotMatch(g722, /opus|PCMU|telephone-event/);
  assert.equal(firstAudioCodec(g722), 'G722');
  const pcmu = restrictAudioCodecs(CHROMIUM_OFFER, audioCodecsFor('pcmu'));
  assert.equal(firstAudioCodec(pcmu), 'PCMU');
  assert.equal(firstAudioCodec(CHROMIUM_OFFER), 'opus');
  assert.equal(firstAudioCodec('v=0\r\nm=video 9 RTP 96\r\na=rtpmap:96 VP8/90000\r\n'), undefined);
  // A peer that does not offer the codec keeps its own (the call still works).
  const opusOnly = CHROMIUM_OFFER.replace(/ 9 0 8 13 110 126/, '').replace(/a=rtpmap:(9|0|8|13|110|126) .*\r\n/g, '');
  assert.equal(restrictAudioCodecs(opusOnly, ['G722']), opusOnly);
});
