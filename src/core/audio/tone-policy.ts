import type { Call, CallClientEventMap } from '../events.js';
import type { TypedEventTarget } from '../typed-event-target.js';
import type { AudioController } from './audio-controller.js';

export { BUSY_CADENCES } from './tones.js';

/**
 * The automatic tone policy (on unless `audioController.autoTones` is false):
 * - outgoing call: progress tone from `progressing`/`ringing` until `established` or `ended`;
 * - incoming call: ringtone while it rings — or the call-waiting tone when another call is already going on;
 * - outgoing call declined (`denied`): a few cadences of busy tone;
 * - any other end of a call that was answered, or of an outgoing call: a short end tone. An incoming call that
 *   ends before it is answered (declined here, canceled by the caller, answered elsewhere) just stops ringing;
 * - a call the other side holds (and this side does not): the soft hold tone, unless another call is going on.
 * The controller has one sound channel, so two tones never sound together; the policy recomputes the one tone it
 * wants on every state change of every call (in the sound chunk, tone-choice.ts: a call that rings before the chunk
 * has arrived gets its ringtone once it has).
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
    const onChange = () => this.changed(call);
    call.addEventListener('statechange', onChange);
    call.addEventListener('holdchange', onChange);
    this.calls.set(call, () => {
      call.removeEventListener('statechange', onChange);
      call.removeEventListener('holdchange', onChange);
    });
    this.changed(call);
  }

  /** A call's state or hold changed: the tone is chosen anew (with the call's end tone when it just ended). */
  private changed(call: Call): void {
    const ended = call.state === 'ended';
    if (ended) {
      this.calls.get(call)?.();
      this.calls.delete(call);
    }
    this.audio()._policy([...this.calls.keys()], ended ? call : undefined);
  }
}
