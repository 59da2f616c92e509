import { html, nothing, type PropertyValues } from 'lit';
import { CallController } from '../../context/call-controller.js';
import type { CallSnapshot } from '../../context/calling-context.js';
import type { ConnectionState } from '../../core/index.js';
import { formatPhone } from '../call-dialer/phone-format.js';
import { CallElement } from '../shared/call-element.js';
import type { LocalizeController } from '../shared/localize.js';
import { styles } from './call-status.styles.js';

/**
 * @summary The state of the connection and the current call in words, with a running timer, for everyone
 * including screen reader users.
 *
 * @csspart base - The wrapper.
 * @csspart state - The state text ("Calling bob…", "Connected", "Call ended — declined"); an `aria-live` region.
 * @csspart timer - The call duration while connected (mm:ss).
 * @csspart detail - Secondary information (the other side muted).
 * @csspart held - The other call, held while this one goes on (call waiting): its name and timer.
 * @csspart held-name - "On hold" and the held call's party, as text.
 * @csspart held-timer - How long the held call has lasted (mm:ss).
 * @csspart error - The human message of the error that ended the call or the connection.
 *
 * @cssproperty --call-color-text - Text color.
 * @cssproperty --call-color-text-muted - Color of the detail line.
 * @cssproperty --call-color-danger - Color of the error message.
 * @cssproperty --call-spacing - Spacing.
 * @cssproperty --call-font-family - Font.
 */
export class CallStatusElement extends CallElement {
  static override styles = [...CallElement.styles, styles];

  private readonly calling = new CallController(this);
  private ticker: ReturnType<typeof setInterval> | undefined;

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stopTicker();
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    // The timers run only while a call is connected: one re-render a second.
    const calls = [this.calling.snapshot, ...(this.calling.state?.calls ?? [])];
    if (calls.some((c) => c?.state === 'established' || c?.state === 'reconnecting')) {
      this.ticker ??= setInterval(() => this.requestUpdate(), 1000);
    } else {
      this.stopTicker();
    }
  }

  private stopTicker(): void {
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  override render() {
    const s = this.calling.snapshot;
    const l = this.localize;
    // The call's time keeps running while its media path recovers.
    const established = s?.state === 'established' || s?.state === 'reconnecting' ? s.details.establishedTime : undefined;
    const error = s ? s.details.error : this.calling.state?.error;
    const held = (this.calling.state?.calls ?? []).filter((c) => c.call !== s?.call && c.isOnHold && c.details.establishedTime);
    return html`<div part="base">
      <span part="state" role="status" aria-live="polite" aria-atomic="true">${stateText(l, s, this.calling.connectionState)}</span>
      ${established
        ? html`<span part="timer" role="timer" aria-label=${l.t.callDuration}>${l.duration((Date.now() - established.getTime()) / 1000)}</span>`
        : nothing}
      ${s && s.state !== 'ended' && s.isRemoteMuted ? html`<p part="detail">${l.t.remoteMuted}</p>` : nothing}
      ${held.map((c) => html`<p part="held"><span part="held-name">${l.t.onHold}: ${partyName(c)}</span>
        <span part="held-timer" role="timer" aria-label=${l.t.callDuration}>${l.duration((Date.now() - c.details.establishedTime!.getTime()) / 1000)}</span></p>`)}
      <p part="error" role="alert">${error && (!s || s.state === 'ended') ? l.error(error) : nothing}</p>
    </div>`;
  }
}

/** The localized one-line state of the provider and its current call. */
export function stateText(l: LocalizeController, s: CallSnapshot | null, connection: ConnectionState): string {
  const t = l.t;
  if (!s) {
    return { connected: t.ready, connecting: t.connecting, reconnecting: t.reconnecting, disconnected: t.offline }[connection];
  }
  const name = partyName(s);
  if (s.state === 'established' || s.state === 'reconnecting') {
    if (s.isOnHold) return `${t.onHold}: ${name}`;
    if (s.isRemoteOnHold) return t.remoteOnHold(name);
  }
  switch (s.state) {
    case 'initiating':
    case 'progressing':
      return s.direction === 'outgoing' ? t.calling(name) : t.incoming(name);
    case 'ringing':
      return s.direction === 'outgoing' ? t.ringing(name) : t.incoming(name);
    case 'answered':
      return t.connectingCall;
    case 'established':
      return t.connected;
    case 'reconnecting':
      return t.reconnecting;
    case 'ended':
      return t.ended[s.details.endCause ?? 'hungUp'];
  }
}

/** The other party as people read it: phone numbers grouped, as the dialer shows them. */
function partyName(s: CallSnapshot): string {
  return s.callType === 'phone' && s.remoteName === s.remoteId ? formatPhone(s.remoteId) : s.remoteName;
}

declare global {
  interface HTMLElementTagNameMap {
    'call-status': CallStatusElement;
  }
}
