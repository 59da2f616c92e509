import { loadHowlerChunk } from '../chunks.js';
import { CallingError } from '../errors.js';
import { TypedEventTarget } from '../typed-event-target.js';
import { assertDtmf } from '../validation.js';
import type { Call } from '../events.js';
import type { AudioEngine } from './audio-engine.js';
import { AutoplayBlockedEvent, AutoplayUnlockedEvent, type AudioControllerEventMap } from './events.js';
import {
  assertSoundName, assertToneRegion, toneRegionForLocales,
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

/** @internal What the sound channel plays, or waits to play. */
export interface SoundRequest {
  readonly sound: SoundName | null;
  /** The app's file; none for a built-in sound (the app's replacement, or generated when it first plays). */
  readonly src?: string;
  readonly loop: boolean;
  readonly owner: Owner;
  /** Stop a looping sound after this many ms (the busy tone plays a few cadences). */
  readonly stopAfterMs?: number;
}

// Outside a browser (Node tools that construct a client) there is nothing to play sound on.
const HAS_DOM = typeof window !== 'undefined' && typeof document !== 'undefined';

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
  /** @internal The app's replacements of built-in sounds (`setSound`). */
  readonly _sounds = new Map<SoundName, string>();
  /** @internal What plays on the channel, or waits (for the sound chunk, for an unlock) to play. */
  _want: SoundRequest | null = null;
  /** @internal Changes with every request and stop: a late callback of an older one does nothing. */
  _token = 0;
  /** @internal The ringtone's output device (`setRingtoneSinkId`). */
  _sink: string | null = null;
  private _volume = 1;
  private _muted = false;
  private _region: ToneRegion;
  private _autoTones: boolean;
  private _locked = false;
  /** The Howler side, from the sound chunk (fetched for the first sound, or by `preload()`). */
  private engine: AudioEngine | null = null;

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
    this.engine?.levels();
  }

  /** Mutes (or unmutes) every SDK sound. Muted sounds keep their place: unmuting resumes them audibly. */
  get muted(): boolean { return this._muted; }
  set muted(value: boolean) {
    this._muted = value === true;
    this.engine?.levels();
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
    const r = this._want;
    return r ? r.sound ?? r.src ?? null : null;
  }

  /**
   * Plays the app's own sound file (URL or data URI) on the SDK's sound channel, stopping whatever played there.
   * `loop` repeats it until `stopPlayingSoundFile()`.
   */
  startPlayingSoundFile(src: string, options: { loop?: boolean } = {}): void {
    assertSource(src);
    this._request({ sound: null, src, loop: options.loop === true, owner: 'app' });
  }

  /** Stops the sound playing on the channel (the app's file or a built-in tone). */
  stopPlayingSoundFile(): void {
    this._token++;
    this._want = null;
    this.engine?.stop();
  }

  /** Plays a built-in sound (or the app's replacement for it) on the sound channel. */
  playSound(name: SoundName, options: { loop?: boolean } = {}): void {
    assertSoundName(name);
    this._request({ sound: name, loop: options.loop === true, owner: 'app' });
  }

  /**
   * Replaces a built-in sound with the app's own (`setSound('ringtone', '/ring.mp3')`); `null` restores the
   * built-in one. A sound playing now switches at once.
   */
  setSound(name: SoundName, url: string | null): void {
    assertSoundName(name);
    if (url === null) this._sounds.delete(name);
    else {
      assertSource(url);
      this._sounds.set(name, url);
    }
    this._replay(name);
  }

  /** Plays the ITU-T Q.23 tone pair of one keypad key (`0-9 * # A-D`) for 150 ms. */
  playDtmf(digit: string): void {
    assertDtmf(digit);
    if (digit.length !== 1) {
      throw new CallingError('argument', 'invalid-dtmf', `playDtmf() takes one key (got "${digit}").`);
    }
    // Before the client went online the key plays once the sound chunk is here (a moment, it is a local chunk).
    if (!this._locked) this.withEngine((engine) => engine.dtmf(digit));
  }

  /**
   * Plays the ringtone on a chosen audio output (e.g. the laptop speaker while the call goes to a headset), where
   * the browser supports `setSinkId`. `''` or `'default'` returns it to the default output. Rejects with an
   * `argument` error for an unknown device and a `capability` error where the browser cannot choose outputs (a
   * `network` error, `chunk-load-failed`, when the sound chunk cannot be fetched).
   */
  setRingtoneSinkId(deviceId: string): Promise<void> {
    return new Promise((resolve, reject) => this.withEngine((engine) => engine.setSink(deviceId, CallingError).then(resolve, reject), reject));
  }

  /** The ringtone's output device id, or null for the default output. */
  get ringtoneSinkId(): string | null { return this._sink; }

  /**
   * Unlocks sound: call it from a user gesture's handler (a click on an "enable sound" control). Resolves once
   * sound can play; a sound that was waiting starts then.
   */
  unlock(): Promise<void> {
    // Without the sound chunk nothing has played, so nothing can be locked.
    return this.engine?.unlock() ?? Promise.resolve();
  }

  /**
   * Decodes the built-in sounds of the current region and finds out whether sound is blocked (then `locked` turns
   * true and `autoplayblocked` fires, so the UI can show an "enable sound" control before a call rings). The client
   * calls it when it goes online.
   */
  async preload(): Promise<void> {
    if (!HAS_DOM) return;
    // Without the sound chunk there is nothing to decode or probe; the first sound fetches it again.
    await new Promise<void>((done) => this.withEngine((engine) => engine.preload().then(done), done));
  }

  /** Stops every SDK sound (the channel and key tones) and forgets a sound waiting for an unlock. */
  stopAll(): void {
    this.stopPlayingSoundFile();
    this.engine?.stopDtmf();
  }

  /** Howl instances this controller has used (shared page-wide and reused; the number stays small). */
  get howlCount(): number { return this.engine?.used.size ?? 0; }

  // ---------------------------------------------------------------------------------------------------------------
  // Internal: the automatic tone policy, and what the sound chunk reports.

  /** @internal The tone policy's calls changed (`ended`: one just ended): it chooses its tone in the sound chunk. */
  _policy(calls: readonly Call[], ended?: Call): void {
    if (HAS_DOM && this._autoTones) this.withEngine((engine) => engine.policy(calls, ended));
  }

  /** @internal Stops the channel if the policy owns it. */
  _stopPolicySound(): void {
    if (this._want?.owner === 'policy') this.stopPlayingSoundFile();
  }

  /** @internal The browser blocks sound: `sound` (the channel's, or null when found ahead of time) waits. */
  _lock(sound: SoundName | string | null): void {
    this._locked = true;
    this.dispatchEvent(new AutoplayBlockedEvent(sound));
  }

  /** @internal Plays the channel's sound again if it is `name` (its source or output changed). */
  _replay(name: SoundName): void {
    if (this._want?.sound === name) this._request(this._want);
  }

  /** @internal Sound can play again: the sound that waited starts. */
  _unlocked(): void {
    const waiting = this._want;
    this._locked = false;
    this._want = null;
    this.dispatchEvent(new AutoplayUnlockedEvent());
    if (waiting) this._request(waiting);
  }

  // ---------------------------------------------------------------------------------------------------------------

  /** @internal Plays `r` on the channel (stopping what played there) once sound can play. */
  _request(r: SoundRequest): void {
    this.stopPlayingSoundFile();
    if (!HAS_DOM) return;
    this._want = r;
    const token = this._token;
    this.withEngine(
      (engine) => { if (token === this._token) engine.play(r, token); },
      // No sound chunk (it did not load): nothing can play; the next sound tries to fetch it again.
      () => { if (token === this._token) this._want = null; },
    );
  }

  /** Runs `use` with the Howler side: at once when the sound chunk is here, else once it has loaded. */
  private withEngine(use: (engine: AudioEngine) => void, failed: () => void = () => undefined): void {
    if (this.engine) use(this.engine);
    else loadHowlerChunk().then((m) => use(this.engine ??= new m.AudioEngine(this)), failed);
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
