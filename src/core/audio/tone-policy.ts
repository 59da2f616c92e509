import type { Call, CallClientEventMap } from '../events.js';
import type { TypedEventTarget } from '../typed-event-target.js';
import type { AudioController } from './audio-controller.js';
import { soundLoopSeconds, type SoundName } from './tones.js';

/** How many cadences of busy tone a declined call gets. */
export const BUSY_CADENCES = 3;

/**
 * The automatic tone policy (on unless `audioController.autoTones` is false):
 * - outgoing call: progress tone from `progressing`/`ringing` until `established` or `ended`;
 * - incoming call: ringtone while it rings — or the call-waiting tone when another call is already going on;
 * - outgoing call declined (`denied`): a few cadences of busy tone;
 * - any other end of a call that was answered, or of an outgoing call: a short end tone. An incoming call that
 *   ends before it is answered (declined here, canceled by the caller, answered elsewhere) just stops ringing;
 * - a call the other side holds (and this side does not): the soft hold tone, unless another call is going on.
 * The controller has one sound channel, so two tones never sound together; the policy recomputes the one tone it
 * wants on every state change of every call.
 */
export class TonePolicy {
  private readonly calls = new Map<Call, () => void>();

  constructor(client: TypedEventTarget<CallClientEventMap>, private readonly audio: () => AudioController) {
    client.addEventListener('incomingcall', (e) => this.track(e.call));
    client.addEventListener('callstarted', (e) => this.track(e.call));
    // Decode the tones and find an autoplay lock before the first call rings, not when it does.
    client.addEventListener('connectionstatechange', (e) => {
      if (e.state === 'connected') void this.audio().preload();
    });
  }

  /** Forgets every call without playing anything (the client is stopping). */
  reset(): void {
    for (const detach of this.calls.values()) detach();
    this.calls.clear();
  }

  private track(call: Call): void {
    if (this.calls.has(call) || call.state === 'ended') return;
    const onState = () => this.onStateChange(call);
    const onHold = () => this.update();
    call.addEventListener('statechange', onState);
    call.addEventListener('holdchange', onHold);
    this.calls.set(call, () => {
      call.removeEventListener('statechange', onState);
      call.removeEventListener('holdchange', onHold);
    });
    this.update();
  }

  private onStateChange(call: Call): void {
    if (call.state !== 'ended') {
      this.update();
      return;
    }
    this.calls.get(call)?.();
    this.calls.delete(call);
    this.update(endToneFor(call));
  }

  private update(endTone?: SoundName | null): void {
    const audio = this.audio();
    if (!audio.autoTones) return;
    const active = [...this.calls.keys()].filter((c) => c.state !== 'ended');
    const ringing = active.filter((c) => c.direction === 'incoming' && c.state === 'ringing');
    let want: SoundName | null = null;
    if (ringing.length) want = active.length > ringing.length ? 'callWaiting' : 'ringtone';
    else if (active.some((c) => c.direction === 'outgoing' && ['progressing', 'ringing', 'answered'].includes(c.state))) want = 'progressTone';
    else if (active.some(isHeldByOther) && !active.some(isTalking)) want = 'onHold';

    if (want) {
      if (audio._policySound !== want) audio._playPolicySound(want, true);
    } else if (endTone === 'busy') {
      audio._playPolicySound('busy', true, BUSY_CADENCES * soundLoopSeconds('busy', audio.region) * 1000);
    } else if (endTone === 'callEnded') {
      audio._playPolicySound('callEnded', false);
    } else if (audio._policySound !== 'busy' && audio._policySound !== 'callEnded') {
      // Let an end tone finish on its own; stop a looping tone nobody wants any more.
      audio._stopPolicySound();
    }
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
