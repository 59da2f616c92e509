/**
 * A call's own media (the local stream, mute and video pause, applied to its tracks; screen sharing) and what the
 * other side said about theirs. Bookkeeping only: the call tells the other side and dispatches `mediachange`.
 */
export class CallMedia {
  stream: MediaStream | null = null;
  muted = false;
  videoPaused = false;
  remoteMuted = false;
  remoteVideoPaused = false;
  /** Whether this side (`local`) and the other (`remote`) share a screen. */
  readonly screen = { local: false, remote: false };

  /** Takes the acquired stream and applies the current mute / video pause to it. */
  use(stream: MediaStream): void {
    this.stream = stream;
    this.apply();
  }

  /** Sets mute and video pause; false when neither changed. */
  set(muted: boolean, videoPaused: boolean): boolean {
    if (muted === this.muted && videoPaused === this.videoPaused) return false;
    this.muted = muted;
    this.videoPaused = videoPaused;
    this.apply();
    return true;
  }

  /** Stops every local track (the call ended). */
  stop(): void {
    stopTracks(this.stream);
  }

  private apply(): void {
    for (const t of this.stream?.getAudioTracks() ?? []) t.enabled = !this.muted;
    for (const t of this.stream?.getVideoTracks() ?? []) t.enabled = !this.videoPaused;
  }
}

/** Stops every track of `stream` (a stream acquired for a call that ended meanwhile, or the call's own). */
export function stopTracks(stream: MediaStream | null): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}
