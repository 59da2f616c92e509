import type { Howl } from 'howler';
import { CallingError } from '../errors.js';
import { TypedEventTarget } from '../typed-event-target.js';
import { assertDtmf } from '../validation.js';
import { audioContext, builtInSoundUri, dtmfHowlIfAny, hasHowls, howlerLoaded, loadHowler, sharedDtmfHowl, sharedHowl } from './howls.js';
import { AutoplayBlockedEvent, AutoplayUnlockedEvent, type AudioControllerEventMap } from './events.js';
import {
  assertSoundName, assertToneRegion, SOUND_NAMES, toneRegionForLocales,
  type SoundName, type ToneRegion,
} from './tones.js';

export interface AudioControllerOptions {
  /** The regional tone plan (ITU-T E.180). Default: from the browser's locale (`navigator.languages`). */
  toneRegion?: ToneRegion;
  /** Volume of every SDK sound, 0..1. Default 1. */
  volume?: number;
  /** Start muted. Default false. */
  muted?: boolean;
  /** Play progress, ringing, busy, waiting and end tones automatically for every call. Default true. */
  autoTones?: boolean;
  /** The app's own sounds instead of the built-in ones, e.g. `{ ringtone: '/sounds/ring.mp3' }`. */
  sounds?: Partial<Record<SoundName, string>>;
}

/** Who started what plays on the sound channel: the automatic tone policy or the app. */
type Owner = 'policy' | 'app';

interface Request {
  readonly sound: SoundName | null;
  /** The app's file; none for a built-in sound, which is generated when it first plays (see `sourceOf`). */
  readonly src?: string;
  readonly loop: boolean;
  readonly owner: Owner;
  /** Stop a looping sound after this many ms (the busy tone plays a few cadences). */
  readonly stopAfterMs?: number;
}

interface Playing extends Request {
  readonly howl: Howl;
  readonly id: number;
  /** Removes the Howl listeners this play added (Howler keeps them until they fire, and some never do). */
  readonly detach: () => void;
}

// Howler keeps each sound's HTMLAudioElement on an undocumented field; the ringtone's output device needs it.
interface HowlInternals {
  _soundById(id: number): { _node?: unknown } | null;
}

const GESTURES = ['pointerdown', 'keydown', 'touchend', 'click'] as const;
// Outside a browser (Node tools that construct a client) there is nothing to play sound on.
const HAS_DOM = typeof window !== 'undefined' && typeof document !== 'undefined';
// How long a suspended AudioContext may take to resume before we call sound locked. Chromium resumes an allowed
// context in a few ms; a blocked one never does.
const PROBE_MS = 300;

/**
 * Every sound the SDK makes, on Howler (Sinch's `SINAudioController`): built-in ringtone, progress tone, busy,
 * call-ended and call-waiting tones generated at run time for a regional tone plan, DTMF key tones, and the app's
 * own sound files. One channel: starting a sound stops the one before, so two tones never sound at once (key tones
 * excepted). Reached as `client.audioController`.
 *
 * Browsers block sound until the user interacts with the page. The controller detects this itself (Howler's Web
 * Audio path fails silently), sets `locked`, fires `autoplayblocked`, keeps the blocked sound waiting, and starts it
 * on the next user gesture or when the app calls `unlock()` from a click handler.
 *
 * @fires autoplayblocked - sound is blocked until a user gesture; show an "enable sound" control
 * @fires autoplayunlocked - sound can play again
 */
export class AudioController extends TypedEventTarget<AudioControllerEventMap> {
  private readonly used = new Set<Howl>();
  private readonly custom = new Map<SoundName, string>();
  private channel: Playing | null = null;
  /** A sound requested while locked (or while finding out): it starts on unlock. */
  private waiting: Request | null = null;
  private token = 0;
  private stopTimer: ReturnType<typeof setTimeout> | undefined;
  private dtmfId: number | null = null;
  private _volume = 1;
  private _muted = false;
  private _region: ToneRegion;
  private _autoTones: boolean;
  private _locked = false;
  private ringtoneSink: string | null = null;
  private readonly watchedContexts = new WeakSet<AudioContext>();
  private unlockWaiters: Array<() => void> = [];
  private readonly onGesture = () => { void this.unlock(); };

  constructor(options: AudioControllerOptions = {}) {
    super();
    if (options.toneRegion !== undefined) assertToneRegion(options.toneRegion);
    this._region = options.toneRegion ?? toneRegionForLocales(browserLocales());
    if (options.volume !== undefined) this.volume = options.volume;
    this._muted = options.muted === true;
    this._autoTones = options.autoTones !== false;
    for (const [name, url] of Object.entries(options.sounds ?? {})) this.setSound(name as SoundName, url);
  }

  /** Volume of every SDK sound, 0..1. */
  get volume(): number { return this._volume; }
  set volume(value: number) {
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
      throw new CallingError('argument', 'invalid-volume', `The volume must be a number from 0 to 1 (got ${String(value)}).`);
    }
    this._volume = value;
    this.applyLevels();
  }

  /** Mutes (or unmutes) every SDK sound. Muted sounds keep their place: unmuting resumes them audibly. */
  get muted(): boolean { return this._muted; }
  set muted(value: boolean) {
    this._muted = value === true;
    this.applyLevels();
  }

  /** The regional tone plan: `us`, `eu` (CEPT) or `uk`. Applies from the next tone. */
  get region(): ToneRegion { return this._region; }
  set region(value: ToneRegion) {
    assertToneRegion(value);
    this._region = value;
  }

  /** Whether the automatic tone policy plays tones for calls. Turning it off stops the tone it is playing. */
  get autoTones(): boolean { return this._autoTones; }
  set autoTones(value: boolean) {
    this._autoTones = value === true;
    if (!this._autoTones) this._stopPolicySound();
  }

  /** True while the browser blocks sound until a user gesture (see `unlock()`). */
  get locked(): boolean { return this._locked; }

  /** What plays (or waits for an unlock) on the sound channel: a built-in sound's name, the app's URL, or null. */
  get currentSound(): SoundName | string | null {
    const r = this.channel ?? this.waiting;
    return r ? r.sound ?? r.src ?? null : null;
  }

  /**
   * Plays the app's own sound file (URL or data URI) on the SDK's sound channel, stopping whatever played there.
   * `loop` repeats it until `stopPlayingSoundFile()`.
   */
  startPlayingSoundFile(src: string, options: { loop?: boolean } = {}): void {
    assertSource(src);
    this.request({ sound: null, src, loop: options.loop === true, owner: 'app' });
  }

  /** Stops the sound playing on the channel (the app's file or a built-in tone). */
  stopPlayingSoundFile(): void {
    this.stopChannel();
  }

  /** Plays a built-in sound (or the app's replacement for it) on the sound channel. */
  playSound(name: SoundName, options: { loop?: boolean } = {}): void {
    assertSoundName(name);
    this.request({ sound: name, src: this.custom.get(name), loop: options.loop === true, owner: 'app' });
  }

  /**
   * Replaces a built-in sound with the app's own (`setSound('ringtone', '/ring.mp3')`); `null` restores the
   * built-in one. A sound playing now switches at once.
   */
  setSound(name: SoundName, url: string | null): void {
    assertSoundName(name);
    if (url === null) this.custom.delete(name);
    else {
      assertSource(url);
      this.custom.set(name, url);
    }
    const now = this.channel ?? this.waiting;
    if (now?.sound === name) this.request({ ...now, src: this.custom.get(name) });
  }

  /** Plays the ITU-T Q.23 tone pair of one keypad key (`0-9 * # A-D`) for 150 ms. */
  playDtmf(digit: string): void {
    assertDtmf(digit);
    if (digit.length !== 1) {
      throw new CallingError('argument', 'invalid-dtmf', `playDtmf() takes one key (got "${digit}").`);
    }
    // Key presses are gestures, so this rarely happens; a stale beep after unlocking would only confuse.
    if (this._locked) return;
    if (!howlerLoaded()) {
      // Before the client went online: play the key once Howler is here (a moment, it is a local chunk).
      loadHowler().then(() => this.playDtmf(digit), () => undefined);
      return;
    }
    const howl = this.dtmfHowl();
    if (this.dtmfId !== null) howl.stop(this.dtmfId);
    const id = howl.play(digit.toUpperCase());
    this.dtmfId = id;
    howl.volume(this._volume, id);
    howl.mute(this._muted, id);
  }

  /**
   * Plays the ringtone on a chosen audio output (e.g. the laptop speaker while the call goes to a headset), where
   * the browser supports `setSinkId`. `''` or `'default'` returns it to the default output. Rejects with an
   * `argument` error for an unknown device and a `capability` error where the browser cannot choose outputs.
   */
  async setRingtoneSinkId(deviceId: string): Promise<void> {
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
    this.ringtoneSink = sink;
    const now = this.channel ?? this.waiting;
    if (now?.sound === 'ringtone') this.request(now);
  }

  /** The ringtone's output device id, or null for the default output. */
  get ringtoneSinkId(): string | null { return this.ringtoneSink; }

  /**
   * Unlocks sound: call it from a user gesture's handler (a click on an "enable sound" control). Resolves once
   * sound can play; a sound that was waiting starts then.
   */
  unlock(): Promise<void> {
    // resume() must run inside the gesture's task, so it comes before any await.
    this.ensureHowler();
    const ctx = audioContext();
    const done = new Promise<void>((resolve) => this.unlockWaiters.push(resolve));
    if (!ctx || ctx.state === 'running') this.unlocked();
    else ctx.resume().then(() => { if (ctx.state === 'running') this.unlocked(); }, () => undefined);
    return done;
  }

  /**
   * Decodes the built-in sounds of the current region and finds out whether sound is blocked (then `locked` turns
   * true and `autoplayblocked` fires, so the UI can show an "enable sound" control before a call rings). The client
   * calls it when it goes online.
   */
  async preload(): Promise<void> {
    if (!HAS_DOM) return;
    // Without Howler's chunk there is nothing to decode or probe; the first sound fetches it again.
    if (!(await loadHowler().then(() => true, () => false))) return;
    for (const name of SOUND_NAMES) this.howlFor(this.sourceOf(name), false);
    if (!(await this.probe()) && !this._locked) this.lock(null);
  }

  /** Stops every SDK sound (the channel and key tones) and forgets a sound waiting for an unlock. */
  stopAll(): void {
    this.stopChannel();
    if (this.dtmfId !== null) dtmfHowlIfAny()?.stop(this.dtmfId);
    this.dtmfId = null;
  }

  /** Howl instances this controller has used (shared page-wide and reused; the number stays small). */
  get howlCount(): number { return this.used.size; }

  // ---------------------------------------------------------------------------------------------------------------
  // Internal: the automatic tone policy.

  /** @internal The built-in sound the tone policy plays (or waits to play), if the channel is the policy's. */
  get _policySound(): SoundName | null {
    const r = this.channel ?? this.waiting;
    return r?.owner === 'policy' ? r.sound : null;
  }

  /** @internal Plays a policy tone; `stopAfterMs` ends a looping tone after a few cadences. */
  _playPolicySound(name: SoundName, loop: boolean, stopAfterMs?: number): void {
    this.request({ sound: name, src: this.custom.get(name), loop, owner: 'policy', ...(stopAfterMs ? { stopAfterMs } : {}) });
  }

  /** @internal Stops the channel if the policy owns it. */
  _stopPolicySound(): void {
    if ((this.channel ?? this.waiting)?.owner === 'policy') this.stopChannel();
  }

  // ---------------------------------------------------------------------------------------------------------------

  private request(r: Request): void {
    this.stopChannel();
    if (!HAS_DOM) return;
    const token = this.token;
    if (!howlerLoaded()) {
      this.waiting = r;
      loadHowler().then(
        () => { if (token === this.token) this.request(r); },
        // No Howler (its chunk did not load): nothing can play; the next sound tries to fetch it again.
        () => { if (token === this.token) this.waiting = null; },
      );
      return;
    }
    this.ensureHowler();
    if (this._locked) {
      this.waiting = r;
      this.dispatchEvent(new AutoplayBlockedEvent((r.sound ?? r.src)!));
      return;
    }
    const ctx = audioContext();
    if (ctx && ctx.state !== 'running') {
      // Suspended: either blocked, or Howler's idle auto-suspend. Only a resume attempt tells them apart.
      this.waiting = r;
      void this.probe().then((running) => {
        if (token !== this.token) return;
        if (running) {
          this.waiting = null;
          this.start(r, token);
        } else if (!this._locked) this.lock(r);
      });
      return;
    }
    this.start(r, token);
  }

  private start(r: Request, token: number): void {
    const html5 = r.sound === 'ringtone' && this.ringtoneSink !== null;
    const howl = this.howlFor(r.src ?? this.sourceOf(r.sound!), html5);
    const id = howl.play();
    howl.loop(r.loop, id);
    howl.volume(this._volume, id);
    howl.mute(this._muted, id);
    const listeners: Array<() => void> = [];
    this.channel = { ...r, howl, id, detach: () => { for (const off of listeners.splice(0)) off(); } };
    if (html5) {
      // Web Audio mode reports nothing when blocked; HTML5 mode does, and that is a lock too.
      const onError = () => { if (token === this.token && !this._locked) this.lock(r); };
      howl.once('playerror', onError, id);
      listeners.push(() => howl.off('playerror', onError, id));
    }
    if (html5 && this.ringtoneSink) {
      const node = (howl as unknown as HowlInternals)._soundById(id)?._node;
      if (node instanceof HTMLMediaElement) void node.setSinkId(this.ringtoneSink).catch(() => undefined);
    }
    if (!r.loop) {
      const onEnd = () => {
        if (this.channel?.id !== id || token !== this.token) return;
        this.channel.detach();
        this.channel = null;
      };
      howl.once('end', onEnd, id);
      listeners.push(() => howl.off('end', onEnd, id));
    }
    if (r.stopAfterMs) {
      this.stopTimer = setTimeout(() => { if (token === this.token) this.stopChannel(); }, r.stopAfterMs);
    }
  }

  private stopChannel(): void {
    this.token++;
    clearTimeout(this.stopTimer);
    this.stopTimer = undefined;
    this.waiting = null;
    const playing = this.channel;
    this.channel = null;
    playing?.detach();
    playing?.howl.stop(playing.id);
  }

  private lock(r: Request | null): void {
    this._locked = true;
    this.waiting = r;
    for (const type of GESTURES) document.addEventListener(type, this.onGesture, { capture: true });
    this.dispatchEvent(new AutoplayBlockedEvent(r ? (r.sound ?? r.src)! : null));
  }

  private unlocked(): void {
    for (const resolve of this.unlockWaiters.splice(0)) resolve();
    if (!this._locked) return;
    this._locked = false;
    for (const type of GESTURES) document.removeEventListener(type, this.onGesture, { capture: true });
    const waiting = this.waiting;
    this.waiting = null;
    this.dispatchEvent(new AutoplayUnlockedEvent());
    if (waiting) this.request(waiting);
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
    if (!howlerLoaded()) return;
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

  /** The sound's source: the app's file, else the built-in one (generated by the sound chunk: Howler must be loaded). */
  private sourceOf(name: SoundName): string {
    return this.custom.get(name) ?? builtInSoundUri(name, this._region);
  }

  private howlFor(src: string, html5: boolean): Howl {
    const howl = sharedHowl(src, html5);
    this.used.add(howl);
    return howl;
  }

  private dtmfHowl(): Howl {
    const howl = sharedDtmfHowl();
    this.used.add(howl);
    return howl;
  }

  /** Volume and mute apply to this controller's own playing sounds only (the Howls are shared). */
  private applyLevels(): void {
    const playing = this.channel;
    if (playing) {
      playing.howl.volume(this._volume, playing.id);
      playing.howl.mute(this._muted, playing.id);
    }
    const dtmf = dtmfHowlIfAny();
    if (dtmf && this.dtmfId !== null) {
      dtmf.volume(this._volume, this.dtmfId);
      dtmf.mute(this._muted, this.dtmfId);
    }
  }
}

function browserLocales(): readonly string[] {
  if (typeof navigator === 'undefined') return [];
  return navigator.languages?.length ? navigator.languages : [navigator.language];
}

function assertSource(src: unknown): asserts src is string {
  if (typeof src !== 'string' || !src.trim()) {
    throw new CallingError('argument', 'invalid-sound-source', 'A sound needs a URL or data URI.');
  }
}
