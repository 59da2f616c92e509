// The automatic tone policy across two (and three) real clients in one page. Both clients' sounds reach the same
// Howler master output, so each tone is told apart by its frequencies: the caller's progress and busy tones are
// the US plan's (440+480, 480+620 Hz), the callee's ringtone has notes no other sound has (G#5, B5).
import { expect } from '@open-wc/testing';
import { TONE_PLANS, type Call, type CallClient, type IncomingCallEvent } from '../../../src/core/index.js';
import { nextEvent, startClient, stopClients, uniqueUser, waitFor } from '../helpers.js';
import { BAND_ON_DB, freqsOf, matches, SILENT, tapMaster, type Tap } from './tap.js';

const RINGTONE_BAND = [830.61, 987.77];
const US = TONE_PLANS.us;
// Longer than any silent gap inside a looping tone of the plans used here (UK progress: 2 s; ringtone: ~1 s).
const LONGER_THAN_ANY_GAP = 2500;

let tap: Tap | undefined;
afterEach(async () => {
  tap?.close();
  tap = undefined;
  await stopClients();
});

async function pair(): Promise<{ alice: CallClient; bob: CallClient }> {
  const [alice, bob] = await Promise.all([
    startClient(uniqueUser('alice'), { audio: { toneRegion: 'us' } }),
    startClient(uniqueUser('bob'), { audio: { toneRegion: 'uk' } }),
  ]);
  tap = await tapMaster(alice.audioController);
  return { alice, bob };
}

async function ring(alice: CallClient, bob: CallClient): Promise<{ out: Call; inc: Call }> {
  const incoming = nextEvent<IncomingCallEvent>(bob, 'incomingcall');
  const out = alice.callUser(bob.userId);
  const inc = (await incoming).call;
  await nextEvent(out, 'ringing').catch(() => undefined);
  return { out, inc };
}

describe('automatic tone policy (two real clients)', () => {
  it('the caller hears the progress tone and the callee the ringtone, until the call is established', async () => {
    const { alice, bob } = await pair();
    const { out, inc } = await ring(alice, bob);
    expect(alice.audioController.currentSound).to.equal('progressTone');
    expect(bob.audioController.currentSound).to.equal('ringtone');
    await tap!.until((x) => x.band(US.progressTone.frequencies) > BAND_ON_DB, 5000, 'progress tone');
    await tap!.until((x) => x.band(RINGTONE_BAND) > BAND_ON_DB, 5000, 'ringtone');

    const established = Promise.all([nextEvent(out, 'established'), nextEvent(inc, 'established')]);
    inc.answer();
    // The ringtone stops on answer, before media is even connected.
    expect(bob.audioController.currentSound).to.equal(null);
    await established;
    expect(alice.audioController.currentSound).to.equal(null);
    await tap!.until((x) => x.level() < SILENT, 3000, 'silence after established');
    await tap!.holds((x) => x.level() < SILENT, LONGER_THAN_ANY_GAP, 'silence while established');

    // Hanging up an established call: a short end tone on both sides, then silence.
    out.hangup();
    await nextEvent(inc, 'ended');
    expect(alice.audioController.currentSound).to.equal('callEnded');
    await tap!.until((x) => x.level() > 0.01, 3000, 'end tone');
    await tap!.until((x) => x.level() < SILENT, 3000, 'silence after the end tone');
  });

  it('declining stops the ringtone, and the caller hears a few cadences of busy tone', async () => {
    const { alice, bob } = await pair();
    const { out, inc } = await ring(alice, bob);
    await tap!.until((x) => x.band(RINGTONE_BAND) > BAND_ON_DB, 5000, 'ringtone');
    const denied = nextEvent(out, 'ended');
    inc.hangup();
    expect(bob.audioController.currentSound).to.equal(null);
    await denied;
    expect(out.details.endCause).to.equal('denied');
    expect(alice.audioController.currentSound).to.equal('busy');
    // Only busy (480+620 Hz) sounds: the two strongest peaks are its pair, and the ringtone is gone.
    await tap!.until((x) => x.level() > 0.02 && x.band(RINGTONE_BAND) < BAND_ON_DB, 5000, 'busy tone alone');
    await new Promise((r) => setTimeout(r, 250));
    const busy = freqsOf(tap!.peaks(2));
    expect(matches(busy, US.busy.frequencies), `busy ${busy}`).to.equal(true);
    // Three cadences (3 s), then the busy tone stops by itself.
    await waitFor(() => alice.audioController.currentSound === null, 6000, 'the busy tone to end');
    await tap!.until((x) => x.level() < SILENT, 2000, 'silence after busy');
  });

  it('the caller canceling stops the ringtone', async () => {
    const { alice, bob } = await pair();
    const { out, inc } = await ring(alice, bob);
    await tap!.until((x) => x.band(RINGTONE_BAND) > BAND_ON_DB, 5000, 'ringtone');
    const ended = nextEvent(inc, 'ended');
    out.hangup();
    await ended;
    expect(inc.details.endCause).to.equal('canceled');
    expect(bob.audioController.currentSound).to.equal(null);
    await tap!.until((x) => x.band(RINGTONE_BAND) < BAND_ON_DB, 3000, 'ringtone gone');
    await tap!.holds((x) => x.band(RINGTONE_BAND) < BAND_ON_DB, LONGER_THAN_ANY_GAP, 'no ringtone');
  });

  it('a second call during a call gets the call-waiting tone, not the ringtone', async () => {
    const { alice, bob } = await pair();
    const carol = await startClient(uniqueUser('carol'), { audio: false });
    const { out, inc } = await ring(alice, bob);
    const established = Promise.all([nextEvent(out, 'established'), nextEvent(inc, 'established')]);
    inc.answer();
    await established;
    await tap!.until((x) => x.level() < SILENT, 3000, 'silence while established');

    const second = nextEvent<IncomingCallEvent>(bob, 'incomingcall');
    carol.callUser(bob.userId);
    const waiting = (await second).call;
    expect(bob.audioController.currentSound).to.equal('callWaiting');
    // UK call waiting: 400 Hz for 0.1 s every 3.1 s.
    await tap!.until((x) => x.band([400]) > BAND_ON_DB, 5000, 'call-waiting tone', 10);
    await tap!.holds((x) => x.band(RINGTONE_BAND) < BAND_ON_DB, 1500, 'no ringtone');

    // When the first call ends, the waiting call rings normally.
    const firstEnded = nextEvent(inc, 'ended');
    out.hangup();
    await firstEnded;
    expect(waiting.state).to.equal('ringing');
    expect(bob.audioController.currentSound).to.equal('ringtone');
    waiting.hangup();
    expect(bob.audioController.currentSound).to.equal(null);
  });

  it('autoTones off: no tone at all; client.stop() silences everything and plays no end tone', async () => {
    const { alice, bob } = await pair();
    alice.audioController.autoTones = false;
    const { inc } = await ring(alice, bob);
    expect(alice.audioController.currentSound).to.equal(null);
    expect(bob.audioController.currentSound).to.equal('ringtone');
    await tap!.until((x) => x.band(RINGTONE_BAND) > BAND_ON_DB, 5000, 'ringtone');
    expect(tap!.band(US.progressTone.frequencies)).to.be.below(BAND_ON_DB);

    await bob.stop();
    expect(inc.state).to.equal('ended');
    expect(bob.audioController.currentSound).to.equal(null);
    await tap!.until((x) => x.level() < SILENT, 3000, 'silence after stop');
    await tap!.holds((x) => x.level() < SILENT, LONGER_THAN_ANY_GAP, 'silence after stop');
  });
});
