// Autoplay locked, as on a first visit (this group's Chromium has no --autoplay-policy flag): the controller finds the
// lock itself, says so, keeps the ringtone waiting ("armed ringer") and starts it on a real click.
import { expect } from '@open-wc/testing';
import { sendMouse } from '@web/test-runner-commands';
import { CallClient, type AutoplayBlockedEvent, type IncomingCallEvent } from '../../../src/core/index.js';
import { callingServer, nextEvent, startClient, stopClients, tokenFor, uniqueUser, waitFor } from '../helpers.js';
import { BAND_ON_DB, SILENT, tapMaster } from './tap.js';

// Ringtone notes that no other SDK sound has (E major arpeggio: G#5 and B5).
const RINGTONE_BAND = [830.61, 987.77];

afterEach(stopClients);

describe('autoplay locked', () => {
  it('locked is true and autoplayblocked fires; a real click unlocks and the waiting ringtone plays', async function () {
    // Only meaningful in the 'autoplay-locked' group's browser; a run that names this file on the command line also
    // loads it in the default browser, where autoplay is allowed.
    const probe = new AudioContext();
    await Promise.race([probe.resume(), new Promise((r) => setTimeout(r, 300))]);
    const allowed = probe.state === 'running';
    await probe.close();
    if (allowed) this.skip();

    const bobId = uniqueUser('bob');
    const bob = new CallClient({ userId: bobId, server: await callingServer(), token: tokenFor(bobId) });
    bob.setSupportCalling(true);
    const blocked: AutoplayBlockedEvent[] = [];
    bob.audioController.addEventListener('autoplayblocked', (e) => blocked.push(e));
    await bob.start();
    // The lock is found when the client goes online, before any call rings.
    await waitFor(() => bob.audioController.locked, 5000, 'locked');
    expect(blocked[0]?.sound).to.equal(null);

    const alice = await startClient(uniqueUser('alice'), { audio: false });
    const tap = await tapMaster(bob.audioController);
    const incoming = nextEvent<IncomingCallEvent>(bob, 'incomingcall');
    alice.callUser(bob.userId);
    const call = (await incoming).call;
    expect(call.state).to.equal('ringing');
    // The ringtone waits: blocked again, with the sound named, and nothing comes out.
    await waitFor(() => blocked.some((e) => e.sound === 'ringtone'), 3000, 'autoplayblocked for the ringtone');
    expect(bob.audioController.currentSound).to.equal('ringtone');
    await tap.holds((x) => x.level() < SILENT, 800, 'silence while locked');

    // The "enable sound" control of an armed ringer.
    const button = document.createElement('button');
    button.textContent = 'Enable sound';
    button.style.cssText = 'position:fixed;left:10px;top:10px;width:200px;height:60px';
    let unlocked: Promise<void> | undefined;
    button.addEventListener('click', () => { unlocked = bob.audioController.unlock(); });
    document.body.append(button);
    const unlockedEvent = nextEvent(bob.audioController, 'autoplayunlocked', 5000);
    await sendMouse({ type: 'click', position: [60, 40] });
    await unlockedEvent;
    await unlocked;
    expect(bob.audioController.locked).to.equal(false);
    await tap.until((x) => x.band(RINGTONE_BAND) > BAND_ON_DB, 5000, 'the ringtone');

    call.hangup();
    await tap.until((x) => x.level() < SILENT, 3000, 'silence after decline');
    tap.close();
    button.remove();
    await bob.stop();
  });
});
