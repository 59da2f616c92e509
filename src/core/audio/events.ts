import type { SoundName } from './tones.js';

/**
 * `autoplayblocked`: the browser does not let the page play sound until the user interacts with it. Show an
 * "enable sound" control (an *armed ringer*) whose click handler calls `audioController.unlock()`. `sound` is the
 * sound that is waiting to play (a built-in name or the app's URL), or null when the lock was found ahead of time.
 */
export class AutoplayBlockedEvent extends Event {
  static readonly type = 'autoplayblocked';
  constructor(readonly sound: SoundName | string | null) { super(AutoplayBlockedEvent.type); }
}

/** `autoplayunlocked`: sound can play now; any sound that was waiting has started. */
export class AutoplayUnlockedEvent extends Event {
  static readonly type = 'autoplayunlocked';
  constructor() { super(AutoplayUnlockedEvent.type); }
}

export interface AudioControllerEventMap {
  autoplayblocked: AutoplayBlockedEvent;
  autoplayunlocked: AutoplayUnlockedEvent;
}
