import { html, nothing, type PropertyValues, type SVGTemplateResult } from 'lit';
import { state } from 'lit/decorators.js';
import type { CallClient, DeviceKind, MediaDeviceLists } from '../../core/index.js';
import { audioControllerOf, CallController } from '../../context/call-controller.js';
import { CallElement } from '../shared/call-element.js';
import { icons } from '../shared/icons.js';
import { styles } from './call-controls.styles.js';

const DTMF_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'] as const;
const canChooseOutput = typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
const SETTERS = { audioInput: 'setAudioInputDevice', videoInput: 'setVideoInputDevice', audioOutput: 'setAudioOutputDevice' } as const;
const canShare = typeof navigator !== 'undefined' && !!navigator.mediaDevices && 'getDisplayMedia' in navigator.mediaDevices;

/**
 * @summary Controls for the current call: mute, camera on/off (video calls), hold, swap between two calls (call
 * waiting), screen sharing (video calls between app users, where the browser can share), microphone, camera (video
 * calls) and speaker choice (where the browser allows it; each shown when there is more than one to choose from), a
 * DTMF keypad (phone and SIP calls), and hang up. Disabled when there is no call. A device chosen here applies to the
 * call at once and to the next calls.
 *
 * @event call-hangup - The user hung up with the Hang up button.
 * @event call-hold - The user held or resumed the current call; `detail.onHold`.
 * @event call-swap - The user swapped calls: the held one resumed, the current one held.
 * @event call-dtmf - A keypad key was sent; `detail.digit`.
 *
 * @csspart base - The group of controls.
 * @csspart mute-button - Mute toggle (`aria-pressed`).
 * @csspart camera-button - Stop video toggle (`aria-pressed`), video calls only.
 * @csspart hold-button - Hold toggle (`aria-pressed`: on hold), once the call is connected.
 * @csspart swap-button - Swap: resume the held call and hold the current one (two calls).
 * @csspart share-button - Share screen toggle (`aria-pressed`), video calls between app users only.
 * @csspart microphone - The microphone choice (icon and select).
 * @csspart microphone-select - The microphone `<select>`.
 * @csspart camera - The camera choice (icon and select), video calls only.
 * @csspart camera-select - The camera `<select>`.
 * @csspart output - The speaker choice (icon and select).
 * @csspart output-select - The speaker `<select>`.
 * @csspart keypad-button - Shows or hides the keypad (`aria-expanded`), phone and SIP calls only.
 * @csspart keypad - The DTMF keypad.
 * @csspart key - A keypad key.
 * @csspart sound-button - Enable sound, while the browser blocks it (autoplay) until a user gesture.
 * @csspart hangup-button - Hang up.
 *
 * @cssproperty --call-color-danger - The Hang up button.
 * @cssproperty --call-color-text - Pressed toggles' background.
 * @cssproperty --call-color-surface - Keypad background.
 * @cssproperty --call-radius - Corner radius.
 * @cssproperty --call-spacing - Spacing.
 */
export class CallControlsElement extends CallElement {
  static override styles = [...CallElement.styles, styles];

  @state() private keypadOpen = false;
  @state() private devices: MediaDeviceLists | undefined;

  private readonly calling = new CallController(this);
  /** The client whose devices are listed (its `devicechange` keeps them and the choices current). */
  private listened: CallClient | null = null;

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.listen(null);
  }

  protected override willUpdate(changed: PropertyValues): void {
    super.willUpdate(changed);
    if (this.isConnected) this.listen(this.calling.client);
  }

  private listen(client: CallClient | null): void {
    if (client === this.listened) return;
    this.listened?.removeEventListener('devicechange', this.loadDevices);
    this.listened = client;
    client?.addEventListener('devicechange', this.loadDevices);
    void this.loadDevices();
  }

  override render() {
    const t = this.localize.t;
    const s = this.calling.snapshot;
    const active = s !== null && s.state !== 'ended';
    const dtmf = active && (s.callType === 'phone' || s.callType === 'sip');
    const established = s?.state === 'established';
    const connected = active && (s.state === 'established' || s.state === 'reconnecting');
    const other = this.heldOther();
    const video = active && s.hasVideo;
    const sharing = !!s?.call.isScreenSharing;
    // Device labels are only known once media permission was granted; until then one device looks like another.
    const menu = (kind: DeviceKind, part: string, glyph: SVGTemplateResult, label: string) => {
      const list = this.devices?.[kind].filter((d) => d.deviceId !== 'default' && d.label) ?? [];
      const chosen = this.listened?.chosenDevices[kind];
      return list.length > 1
        ? html`<label part=${part}>${glyph}
            <select part="${part}-select" aria-label=${label} ?disabled=${!active} @change=${(e: Event) => this.choose(kind, e)}>
              <option value="" ?selected=${!chosen}>${t.defaultOutput}</option>
              ${list.map((d) => html`<option value=${d.deviceId} ?selected=${d.deviceId === chosen}>${d.label}</option>`)}
            </select></label>`
        : nothing;
    };
    return html`<div part="base" role="group" aria-label=${t.callControls}>
        <button part="mute-button" type="button" aria-pressed=${active && s.isMuted ? 'true' : 'false'} ?disabled=${!active}
          @click=${this.toggleMute}>${icons.mic}${t.mute}</button>
        ${video
          ? html`<button part="camera-button" type="button" aria-pressed=${s.isVideoPaused ? 'true' : 'false'}
              @click=${this.toggleVideo}>${icons.video}${t.stopVideo}</button>`
          : nothing}
        ${connected
          ? html`<button part="hold-button" type="button" aria-pressed=${s.isOnHold ? 'true' : 'false'}
              @click=${this.toggleHold}>${icons.pause}${t.hold}</button>`
          : nothing}
        ${connected && other
          ? html`<button part="swap-button" type="button" @click=${this.swap}>${icons.swap}${t.swap}</button>`
          : nothing}
        ${video && s.callType === 'user' && canShare
          ? html`<button part="share-button" type="button" aria-pressed=${sharing ? 'true' : 'false'} ?disabled=${!established}
              @click=${this.toggleShare}>${/* the picture-in-picture glyph is a screen: no path of its own */ icons.pip}${t.shareScreen}</button>`
          : nothing}
        ${menu('audioInput', 'microphone', icons.mic, t.microphone)}
        ${video ? menu('videoInput', 'camera', icons.video, t.camera) : nothing}
        ${canChooseOutput ? menu('audioOutput', 'output', icons.speaker, t.audioOutput) : nothing}
        ${dtmf
          ? html`<button part="keypad-button" type="button" aria-expanded=${this.keypadOpen ? 'true' : 'false'} aria-controls="keypad"
              @click=${() => { this.keypadOpen = !this.keypadOpen; }}>${icons.dialpad}${t.dtmfKeypad}</button>`
          : nothing}
        ${this.calling.soundBlocked
          ? html`<button part="sound-button" class="accent" type="button" @click=${() => void this.calling.unlockSound()}>${icons.speaker}${t.enableSound}</button>`
          : nothing}
        <button part="hangup-button" class="danger" type="button" ?disabled=${!active} @click=${this.hangup}>${icons.hangup}${t.hangUp}</button>
      </div>
      ${dtmf && this.keypadOpen
        ? html`<div part="keypad" id="keypad" role="group" aria-label=${t.dtmfKeypad}>
            ${DTMF_KEYS.map((k) => html`<button part="key" type="button" ?disabled=${!established} @click=${() => this.sendDigit(k)}>${k}</button>`)}
          </div>`
        : nothing}`;
  }

  private readonly toggleMute = () => {
    const call = this.calling.activeCall;
    if (!call) return;
    if (call.isMuted) call.unmute();
    else call.mute();
  };

  private readonly toggleVideo = () => {
    const call = this.calling.activeCall;
    if (!call) return;
    if (call.isVideoPaused) call.resumeVideo();
    else call.pauseVideo();
  };

  /** The other connected call, held by this user, beside the current one (call waiting). */
  private heldOther() {
    const current = this.calling.snapshot?.call;
    return this.calling.state?.calls.find((c) => c.call !== current && c.isOnHold && (c.state === 'established' || c.state === 'reconnecting'));
  }

  private readonly toggleHold = () => {
    const call = this.calling.activeCall;
    if (!call) return;
    try {
      if (call.isOnHold) call.unhold();
      else call.hold();
    } catch {
      return; // the call left the connected state in the same instant
    }
    this.emit('call-hold', { onHold: call.isOnHold });
  };

  private readonly swap = () => {
    const other = this.heldOther();
    if (!other) return;
    try {
      other.call.unhold(); // holds the current call first
    } catch {
      return;
    }
    this.emit('call-swap', {});
  };

  private readonly toggleShare = () => {
    const call = this.calling.activeCall;
    // A refused or cancelled picker leaves the call as it was.
    (call?.isScreenSharing ? call.stopScreenShare() : call?.startScreenShare())?.catch(() => undefined);
  };

  private readonly hangup = () => {
    const call = this.calling.activeCall;
    if (!call) return;
    call.hangup();
    this.keypadOpen = false;
    this.emit('call-hangup', {});
  };

  private sendDigit(digit: string): void {
    const call = this.calling.activeCall;
    if (!call) return;
    call.sendDtmf(digit);
    void audioControllerOf(this.calling.client)?.playDtmf?.(digit);
    this.emit('call-dtmf', { digit });
  }

  /** The client applies the choice (the provider routes the call's sound to the output) and says so. */
  private choose(kind: DeviceKind, e: Event): void {
    const id = (e.target as HTMLSelectElement).value;
    this.listened?.[SETTERS[kind]](id).catch(() => this.loadDevices());
  }

  private readonly loadDevices = async () => {
    const client = this.listened;
    const devices = await client?.getDevices?.().catch(() => undefined);
    if (client === this.listened) this.devices = devices;
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'call-controls': CallControlsElement;
  }
  interface GlobalEventHandlersEventMap {
    'call-hangup': CustomEvent<Record<string, never>>;
    'call-dtmf': CustomEvent<{ digit: string }>;
    'call-hold': CustomEvent<{ onHold: boolean }>;
    'call-swap': CustomEvent<Record<string, never>>;
  }
}
