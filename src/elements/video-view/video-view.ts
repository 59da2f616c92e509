import { html, nothing, type PropertyValues } from 'lit';
import { property, query } from 'lit/decorators.js';
import { CallController } from '../../context/call-controller.js';
import { CallElement } from '../shared/call-element.js';
import { icons } from '../shared/icons.js';
import { styles } from './video-view.styles.js';

/** Up to two initials of a name or id: "Ada Lovelace" → "AL", "bob-42" → "B4". */
export function initials(name: string): string {
  const words = name.split(/[\s._@+-]+/).filter(Boolean);
  return words.slice(0, 2).map((w) => [...w][0]?.toUpperCase() ?? '').join('') || '?';
}

/**
 * @summary Shows the remote party's video or this user's camera (mirrored), with an initials placeholder when
 * there is no video or it is paused. A shared screen (either side's) is shown whole (`contain`, not mirrored),
 * whatever `fit` says.
 *
 * @csspart video - The `<video>` element.
 * @csspart placeholder - Shown instead of the video when there is none or it is paused.
 * @csspart initials - The initials in the placeholder.
 * @csspart pip-button - The picture-in-picture button (remote video, where supported).
 *
 * @cssproperty --call-video-background - Background behind the video and placeholder.
 * @cssproperty --call-video-placeholder-color - Background of the initials circle.
 * @cssproperty --call-video-aspect-ratio - The box's aspect ratio (default 4 / 3).
 * @cssproperty --call-radius - Corner radius.
 */
export class VideoViewElement extends CallElement {
  static override styles = [...CallElement.styles, styles];

  /** `remote` (the other party) or `local` (this user's camera). */
  @property({ reflect: true }) source: 'remote' | 'local' = 'remote';
  /** How the video fills the box: `cover` (crop) or `contain` (letterbox). */
  @property({ reflect: true }) fit: 'cover' | 'contain' = 'cover';

  @query('video') private video?: HTMLVideoElement;

  private readonly calling = new CallController(this);

  /** The stream shown now, or null. */
  get stream(): MediaStream | null {
    const s = this.calling.snapshot;
    if (!s || s.state === 'ended') return null;
    return this.source === 'local' ? s.localStream : s.remoteStream;
  }

  /** Whether a live, unpaused video track is shown (otherwise the placeholder is). */
  get showsVideo(): boolean {
    const s = this.calling.snapshot;
    const stream = this.stream;
    if (!s || !stream || stream.getVideoTracks().length === 0) return false;
    return this.source === 'local' ? !s.isVideoPaused : !s.isRemoteVideoPaused;
  }

  override render() {
    const s = this.calling.snapshot;
    const t = this.localize.t;
    const name = this.source === 'local' ? (this.calling.state?.localName ?? '') : (s?.remoteName ?? '');
    const screen = this.source === 'local' ? s?.call.isScreenSharing : s?.call.isRemoteScreenSharing;
    const label = this.source === 'local' ? t.localVideo : (screen ? t.remoteScreen : t.remoteVideo)(name);
    const shows = this.showsVideo;
    const pip = this.source === 'remote' && shows && document.pictureInPictureEnabled === true;
    // The video is always muted: the provider plays the remote sound, so audio-only calls need no video view.
    return html`<video part="video" class=${screen ? 'screen' : ''} playsinline autoplay muted aria-label=${label} ?hidden=${!shows}></video>
      ${shows
        ? nothing
        : html`<div part="placeholder" role="img" aria-label=${label}><span part="initials" aria-hidden="true">${
            // A number has no initials: a handset says "phone call" better than its first digit.
            /^\+?[\d\s]+$/.test(name) ? icons.phone : initials(name)
          }</span></div>`}
      ${pip
        ? html`<button part="pip-button" type="button" aria-label=${t.pictureInPicture} title=${t.pictureInPicture} @click=${this.togglePip}>${icons.pip}</button>`
        : nothing}`;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    const video = this.video;
    if (!video) return;
    const stream = this.stream;
    if (video.srcObject !== stream) {
      video.srcObject = stream;
      if (stream) video.play().catch(() => undefined);
    }
  }

  private readonly togglePip = async () => {
    const video = this.video;
    if (!video) return;
    if (document.pictureInPictureElement) await document.exitPictureInPicture();
    else await video.requestPictureInPicture();
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'video-view': VideoViewElement;
  }
}
