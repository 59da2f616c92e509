// The automatic tone policy's decision (the rules are on `TonePolicy`, which tracks the calls in the first load): the
// one tone the calls want now. In the sound chunk, run by the controller's `_policy()`.
import type { Call } from '../events.js';
import type { AudioController } from './audio-controller.js';
import { BUSY_CADENCES, soundLoopSeconds, type SoundName } from './tones.js';

/** Plays (or stops) the policy's tone for `calls`, the calls not ended; `ended` is the call that just ended. */
export function chooseTone(audio: AudioController, calls: readonly Call[], ended?: Call): void {
  if (!audio.autoTones) return;
  const active = calls.filter((c) => c.state !== 'ended');
  const ringing = active.filter((c) => c.direction === 'incoming' && c.state === 'ringing');
  const endTone = ended ? endToneFor(ended) : null;
  const now = audio._want;
  const playing = now?.owner === 'policy' ? now.sound : null;
  const play = (sound: SoundName, loop: boolean, stopAfterMs?: number) => audio._request({ sound, loop, owner: 'policy', stopAfterMs });
  let want: SoundName | null = null;
  if (ringing.length) want = active.length > ringing.length ? 'callWaiting' : 'ringtone';
  else if (active.some((c) => c.direction === 'outgoing' && ['progressing', 'ringing', 'answered'].includes(c.state))) want = 'progressTone';
  else if (active.some(isHeldByOther) && !active.some(isTalking)) want = 'onHold';

  if (want) {
    if (playing !== want) play(want, true);
  } else if (endTone === 'busy') {
    play('busy', true, BUSY_CADENCES * soundLoopSeconds('busy', audio.region) * 1000);
  } else if (endTone === 'callEnded') {
    play('callEnded', false);
  } else if (playing !== 'busy' && playing !== 'callEnded') {
    // Let an end tone finish on its own; stop a looping tone nobody wants any more.
    audio._stopPolicySound();
  }
}

/** The other side holds the call and this side does not: this side waits for it to come back. */
function isHeldByOther(call: Call): boolean {
  return call.isRemoteOnHold && !call.isOnHold && (call.state === 'established' || call.state === 'reconnecting');
}
/** A call with the media going both ways (neither side holds it). */
function isTalking(call: Call): boolean {
  return !call.isRemoteOnHold && !call.isOnHold && (call.state === 'established' || call.state === 'reconnecting');
}

function endToneFor(call: Call): SoundName | null {
  if (call.direction === 'outgoing' && call.details.endCause === 'denied') return 'busy';
  if (call.direction === 'incoming' && !call.details.answeredTime) return null;
  return 'callEnded';
}
