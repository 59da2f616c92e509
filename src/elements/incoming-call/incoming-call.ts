import { html, nothing, type PropertyValues } from 'lit';
import { property, query } from 'lit/decorators.js';
import { CallController } from '../../context/call-controller.js';
import type { CallSnapshot } from '../../context/calling-context.js';
import { CallElement } from '../shared/call-element.js';
import { icons } from '../shared/icons.js';
import { styles } from './incoming-call.styles.js';

/** The element focused deepest, through shadow roots. */
function deepActiveElement(): HTMLElement | null {
  let el: Element | null = document.activeElement;
  while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
  return el instanceof HTMLElement ? el : null;
}

/** What answering a waiting call does with the call going on: hold it, end it; `null` when there was none. */
export type OtherCallAction = 'hold' | 'end' | null;

/**
 * @summary Shows a call ringing in — who calls and whether with video — with Answer, Decline and (video
 * calls) Answer with audio only. During another call (call waiting) it offers Hold and answer, End and answer
 * and Decline instead. Takes focus when it appears and gives it back afterwards.
 *
 * @event call-answer - The user answered; `detail.video` says whether with video, `detail.other` what happened to
 *   the call going on (`hold`, `end`, or `null` when there was none).
 * @event call-decline - The user declined.
 *
 * @csspart base - The alert dialog.
 * @csspart title - "Incoming call" ("Call waiting" during another call).
 * @csspart caller - Who is calling (display name or user id, as text).
 * @csspart caller-id - The caller's user id (or number), under a display name: names are chosen by the caller.
 * @csspart kind - "Video call" or "Audio call".
 * @csspart actions - The button row.
 * @csspart answer-button - Answer (with video when offered).
 * @csspart answer-audio-button - Answer with audio only (video calls).
 * @csspart hold-answer-button - Hold and answer: the call going on is held (call waiting).
 * @csspart end-answer-button - End and answer: the call going on is hung up (call waiting).
 * @csspart decline-button - Decline.
 * @csspart sound-button - Enable sound (when the browser blocked autoplay).
 *
 * @cssproperty --call-color-surface - Background.
 * @cssproperty --call-color-success - Answer buttons.
 * @cssproperty --call-color-danger - Decline button.
 * @cssproperty --call-color-text-muted - Title and call kind.
 * @cssproperty --call-radius - Corner radius.
 * @cssproperty --call-spacing - Spacing.
 */
export class IncomingCallElement extends CallElement {
  static override styles = [...CallElement.styles, styles];

  /** Reflects whether a call is ringing in (read only; set by the element). */
  @property({ type: Boolean, reflect: true }) open = false;
  /** Answer every call with audio only, also from "Hold and answer" and "End and answer" (`<call-widget>` without `video`). */
  @property({ type: Boolean, attribute: 'audio-only' }) audioOnly = false;

  @query('button.primary') private answerButton?: HTMLButtonElement;

  private readonly calling = new CallController(this);
  private returnFocus: HTMLElement | null = null;

  protected override willUpdate(changed: PropertyValues): void {
    super.willUpdate(changed);
    const open = this.ringing() !== null;
    if (open && !this.open) this.returnFocus = deepActiveElement();
    this.open = open;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    if (!changed.has('open')) return;
    if (this.open) {
      this.answerButton?.focus();
    } else if (changed.get('open') === true) {
      // Give focus back only if it is still ours (or lost to <body>), not if the user moved on.
      const active = deepActiveElement();
      const ours = !active || active === document.body || this.shadowRoot?.contains(active);
      if (ours && this.returnFocus?.isConnected) this.returnFocus.focus();
      this.returnFocus = null;
    }
  }

  /** The call ringing in: the current call, or with call waiting the one ringing beside it. */
  private ringing(): CallSnapshot | null {
    const isRinging = (c: CallSnapshot | null | undefined) => c?.direction === 'incoming' && c.state === 'ringing';
    const s = this.calling.snapshot;
    return this.calling.state?.calls.find(isRinging) ?? (isRinging(s) ? s : null);
  }

  /** The other calls going on beside the one ringing in (call waiting). */
  private others(ringing: CallSnapshot): CallSnapshot[] {
    return (this.calling.state?.calls ?? []).filter((c) => c.call !== ringing.call && c.state !== 'ended');
  }

  override render() {
    const s = this.ringing();
    if (!this.open || !s) return nothing;
    const t = this.localize.t;
    const video = s.details.isVideoOffered;
    const showSound = this.calling.soundBlocked;
    const waiting = this.others(s).length > 0;
    return html`<div part="base" role="alertdialog" aria-labelledby="title caller" aria-describedby="kind">
      <p part="title" id="title">${waiting ? t.callWaiting : t.incomingCall}</p>
      <p part="caller" id="caller">${s.remoteName}</p>
      ${s.remoteName !== s.remoteId ? html`<p part="caller-id">${s.remoteId}</p>` : nothing}
      <p part="kind" id="kind">${video ? t.videoCall : t.audioCall}</p>
      <div part="actions">
        ${waiting
          ? html`<button part="hold-answer-button" class="primary" type="button" @click=${() => this.answer(video, 'hold')}>
                ${icons.phone}${t.holdAndAnswer}</button>
              <button part="end-answer-button" type="button" @click=${() => this.answer(video, 'end')}>${icons.hangup}${t.endAndAnswer}</button>`
          : html`<button part="answer-button" class="primary" type="button" @click=${() => this.answer(video, null)}>
                ${video ? icons.video : icons.phone}${t.answer}</button>`}
        ${video && !waiting
          ? html`<button part="answer-audio-button" type="button" @click=${() => this.answer(false, null)}>${icons.phone}${t.answerAudioOnly}</button>`
          : nothing}
        <button part="decline-button" class="danger" type="button" @click=${this.decline}>${icons.hangup}${t.decline}</button>
        ${showSound
          ? html`<button part="sound-button" type="button" @click=${() => void this.calling.unlockSound()}>${icons.speaker}${t.enableSound}</button>`
          : nothing}
      </div>
    </div>`;
  }

  private answer(video: boolean, other: OtherCallAction): void {
    const ringing = this.ringing();
    if (!ringing) return;
    const call = ringing.call;
    // The click is a user gesture: a good moment to let blocked sound start.
    if (this.calling.soundBlocked) void this.calling.unlockSound();
    // "End and answer" hangs up the call going on; otherwise the SDK holds it as it answers.
    if (other === 'end') for (const c of this.others(ringing)) c.call.hangup();
    try {
      call.answer({ video: video && !this.audioOnly });
    } catch {
      return; // the caller gave up in the same instant: the call is no longer ringing
    }
    this.emit('call-answer', { video: video && !this.audioOnly, other });
  }

  private readonly decline = () => {
    const call = this.ringing()?.call;
    if (!call) return;
    call.hangup();
    this.emit('call-decline', {});
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'incoming-call': IncomingCallElement;
  }
  interface GlobalEventHandlersEventMap {
    'call-answer': CustomEvent<{ video: boolean; other: OtherCallAction }>;
    'call-decline': CustomEvent<Record<string, never>>;
  }
}
