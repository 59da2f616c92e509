// What `AudioController` does with Howler: it travels in the sound chunk with Howler and the tone generator (see
// howler-chunk.ts), so the first load carries only the controller's state and checks. The controller keeps what is
// wanted (volume, mute, the sound on the channel, `locked`) and forwards here; this side plays, stops and finds
// out whether the browser blocks sound. It makes no errors or events of its own: classes from the first load are
// not the chunk's (a copy here would fail `instanceof`), so it reports through the controller's `_`-methods.
import type { Howl } from 'howler';
import type { CallingError as CallingErrorClass } from '../errors.js';
import type { Call } from '../events.js';
import type { AudioController, SoundRequest } from './audio-controller.js';
import { builtInSoundUri } from './tone-render.js';
import { audioContext, dtmfHowlIfAny, hasHowls, sharedDtmfHowl, sharedHowl } from './howls.js';
import { chooseTone } from './tone-choice.js';
import { SOUND_NAMES, type SoundName } from './tones.js';

// Howler keeps each sound's HTMLAudioElement on an undocumented field; the ringtone's output device needs it.
interface HowlInternals {
  _soundById(id: number): { _node?: unknown } | null;
}

const GESTURES = ['pointerdown', 'keydown', 'touchend', 'click'] as const;
// How long a suspended AudioContext may take to resume before we call sound locked. Chromium resumes an allowed
// context in a few ms; a blocked one never does.
const PROBE_MS = 300;

/** One controller's sounds on Howler (the Howls themselves are page-wide, see howls.ts). */
export class AudioEngine {
  /** Howl instances the controller has used (`howlCount`). */
  readonly used = new Set<Howl>();
  /** The channel's sound; `detach` removes the Howl listeners its play added (Howler keeps them until they fire). */
  private playing: { howl: Howl; id: number; detach: () => void } | null = null;
  private stopTimer: ReturnType<typeof setTimeout> | undefined;
  private dtmfId: number | null = null;
  private readonly watchedContexts = new WeakSet<AudioContext>();
  private unlockWaiters: Array<() => void> = [];
  private readonly onGesture = () => { void this.unlock(); };

  constructor(private readonly c: AudioController) {}

  /** Plays the controller's request `r`, made under `token` (a later request or a stop changes the token). */
  play(r: SoundRequest, token: number): void {
    this.ensureHowler();
    if (this.c.locked) {
      this.lock(r);
      return;
    }
    const ctx = audioContext();
    if (ctx && ctx.state !== 'running') {
      // Suspended: either blocked, or Howler's idle auto-suspend. Only a resume attempt tells them apart.
      void this.probe().then((running) => {
        if (token !== this.c._token) return;
        if (running) this.start(r, token);
        else if (!this.c.locked) this.lock(r);
      });
      return;
    }
    this.start(r, token);
  }

  /** The tone policy's choice for `calls` (see tone-choice.ts). */
  policy(calls: readonly Call[], ended?: Call): void {
    chooseTone(this.c, calls, ended);
  }

  /** Stops the channel's sound. */
  stop(): void {
    clearTimeout(this.stopTimer);
    this.stopTimer = undefined;
    const playing = this.playing;
    this.playing = null;
    playing?.detach();
    playing?.howl.stop(playing.id);
  }

  /** Plays one DTMF key tone (stopping the one before). */
  dtmf(digit: string): void {
    // Key presses are gestures, so this rarely happens; a stale beep after unlocking would only confuse.
    if (this.c.locked) return;
    const howl = this.howl(sharedDtmfHowl());
    if (this.dtmfId !== null) howl.stop(this.dtmfId);
    const id = howl.play(digit.toUpperCase());
    this.dtmfId = id;
    howl.volume(this.c.volume, id);
    howl.mute(this.c.muted, id);
  }

  stopDtmf(): void {
    if (this.dtmfId !== null) dtmfHowlIfAny()?.stop(this.dtmfId);
    this.dtmfId = null;
  }

  /** Volume and mute apply to this controller's own playing sounds only (the Howls are shared). */
  levels(): void {
    const { volume, muted } = this.c;
    const playing = this.playing;
    if (playing) {
      playing.howl.volume(volume, playing.id);
      playing.howl.mute(muted, playing.id);
    }
    const dtmf = dtmfHowlIfAny();
    if (dtmf && this.dtmfId !== null) {
      dtmf.volume(volume, this.dtmfId);
      dtmf.mute(muted, this.dtmfId);
    }
  }

  /** See `AudioController.setRingtoneSinkId()`; the errors are the first load's `CallingError`. */
  async setSink(deviceId: unknown, CallingError: typeof CallingErrorClass): Promise<void> {
    if (typeof deviceId !== 'string') {
      throw new CallingError('argument', 'invalid-sink', 'The output device id must be a string.');
    }
    if (typeof HTMLMediaElement === 'undefined' || !('setSinkId' in HTMLMediaElement.prototype)) {
      throw new CallingError('capability', 'sink-not-supported', 'This browser cannot choose the audio output device.');
    }
    const sink = deviceId === '' || deviceId === 'default' ? null : deviceId;
    if (sink) {
      // Try the id on a scratch element first: a bad id fails here, not when a call rings.
      try {
        await new Audio().setSinkId(sink);
      } catch (err) {
        throw new CallingError('argument', 'invalid-sink', `No audio output device "${deviceId}" can be used.`, { cause: err });
      }
    }
    this.c._sink = sink;
    this.c._replay('ringtone');
  }

  /** See `AudioController.unlock()`: resume() must run inside the gesture's task, so it comes before any await. */
  unlock(): Promise<void> {
    this.ensureHowler();
    const ctx = audioContext();
    const done = new Promise<void>((resolve) => this.unlockWaiters.push(resolve));
    if (!ctx || ctx.state === 'running') this.unlocked();
    else ctx.resume().then(() => { if (ctx.state === 'running') this.unlocked(); }, () => undefined);
    return done;
  }

  /** Decodes the built-in sounds of the current region and finds out whether sound is blocked. */
  async preload(): Promise<void> {
    for (const name of SOUND_NAMES) this.howlFor(this.sourceOf(name), false);
    if (!(await this.probe()) && !this.c.locked) this.lock(null);
  }

  private start(r: SoundRequest, token: number): void {
    const sink = r.sound === 'ringtone' ? this.c.ringtoneSinkId : null;
    const html5 = sink !== null;
    const howl = this.howlFor(r.src ?? this.sourceOf(r.sound!), html5);
    const id = howl.play();
    howl.loop(r.loop, id);
    howl.volume(this.c.volume, id);
    howl.mute(this.c.muted, id);
    const listeners: Array<() => void> = [];
    this.playing = { howl, id, detach: () => { for (const off of listeners.splice(0)) off(); } };
    const current = () => this.playing?.id === id && token === this.c._token;
    if (sink !== null) {
      // Web Audio mode reports nothing when blocked; HTML5 mode does, and that is a lock too.
      const onError = () => { if (token === this.c._token && !this.c.locked) this.lock(r); };
      howl.once('playerror', onError, id);
      listeners.push(() => howl.off('playerror', onError, id));
      const node = (howl as unknown as HowlInternals)._soundById(id)?._node;
      if (node instanceof HTMLMediaElement) void node.setSinkId(sink).catch(() => undefined);
    }
    if (!r.loop) {
      const onEnd = () => { if (current()) this.c.stopPlayingSoundFile(); };
      howl.once('end', onEnd, id);
      listeners.push(() => howl.off('end', onEnd, id));
    }
    if (r.stopAfterMs) {
      this.stopTimer = setTimeout(() => { if (token === this.c._token) this.c.stopPlayingSoundFile(); }, r.stopAfterMs);
    }
  }

  private lock(r: SoundRequest | null): void {
    for (const type of GESTURES) document.addEventListener(type, this.onGesture, { capture: true });
    this.c._lock(r ? (r.sound ?? r.src)! : null);
  }

  private unlocked(): void {
    for (const resolve of this.unlockWaiters.splice(0)) resolve();
    if (!this.c.locked) return;
    for (const type of GESTURES) document.removeEventListener(type, this.onGesture, { capture: true });
    this.c._unlocked();
  }

  /** True when the AudioContext runs, or starts running within PROBE_MS of a resume attempt. */
  private async probe(): Promise<boolean> {
    this.ensureHowler();
    const ctx = audioContext();
    if (!ctx || ctx.state === 'running') return true;
    await Promise.race([ctx.resume().catch(() => undefined), new Promise((r) => setTimeout(r, PROBE_MS))]);
    return audioContext()?.state === 'running';
  }

  /** Howler creates (and once replaces) its AudioContext with the first Howl; watch whichever is current. */
  private ensureHowler(): void {
    if (!hasHowls()) this.howlFor(this.sourceOf('ringtone'), false);
    const ctx = audioContext();
    if (ctx && !this.watchedContexts.has(ctx)) {
      this.watchedContexts.add(ctx);
      // Howler's own gesture unlocker (or the app) may resume the context: that ends the lock too.
      ctx.addEventListener('statechange', () => {
        if (ctx === audioContext() && ctx.state === 'running') this.unlocked();
      });
    }
  }

  /** The sound's source: the app's file, else the built-in one (generated when it first plays). */
  private sourceOf(name: SoundName): string {
    return this.c._sounds.get(name) ?? builtInSoundUri(name, this.c.region);
  }

  private howlFor(src: string, html5: boolean): Howl {
    return this.howl(sharedHowl(src, html5));
  }

  private howl(howl: Howl): Howl {
    this.used.add(howl);
    return howl;
  }
}
