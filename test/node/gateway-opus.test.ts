// The gateway's other browser-leg codec (GATEWAY_BROWSER_CODEC=opus): Opus at 48 kHz on the WebRTC side, resampled to
// and from G.711 at 8 kHz for RTP — the path the default (PCMU on both legs) skips. A Node WebRTC caller (as a
// browser would be) → gateway → sipp answering with RTP echo: the caller hears its own 440 Hz tone back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rms, toneShare } from '../../src/server/gateway/media/dsp.js';
import { call, once, playTone, record, sleep, startEnv, startSipp, type Env } from './gateway-harness.js';

let env: Env;
before(async () => { env = await startEnv({ browserCodec: 'opus' }); });
after(async () => { await env?.close(); });

test('Opus on the browser leg: audio both ways through 48 kHz ↔ 8 kHz resampling, tone and level kept', { timeout: 60_000 }, async () => {
  const sipp = await startSipp('answer.xml');
  const s = call(env, 'sip', `bob@127.0.0.1:${sipp.port}`);
  const heard = record(s);
  await once(s, 'answer');
  const stop = playTone(s, 440);
  await sleep(2500);
  stop();
  const got = heard.samples();
  const tail = got.subarray(Math.floor(got.length / 2));
  assert.equal(heard.rate(), 48000, 'the caller decodes Opus at 48 kHz');
  assert.ok(rms(tail) > 0.02, `echo level ${rms(tail).toFixed(3)}`);
  const share = toneShare(tail, heard.rate(), 440);
  assert.ok(share > 0.3, `440 Hz share ${share.toFixed(2)}`);
  s.hangup('hungUp');
  assert.equal(await sipp.done, 0, 'sipp scenario passed (BYE received)');
});
