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
    // The timer runs only while a call is connected: one re-render a second.
    const state = this.calling.snapshot?.state;
    if (state === 'established' || state === 'reconnecting') {
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
    return html`<div part="base">
      <span part="state" role="status" aria-live="polite" aria-atomic="true">${stateText(l, s, this.calling.connectionState)}</span>
      ${established
        ? html`<span part="timer" role="timer" aria-label=${l.t.callDuration}>${l.duration((Date.now() - established.getTime()) / 1000)}</span>`
        : nothing}
      ${s && s.state !== 'ended' && s.isRemoteMuted ? html`<p part="detail">${l.t.remoteMuted}</p>` : nothing}
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
  // Phone numbers read better grouped, as the dialer shows them.
  const name = s.callType === 'phone' && s.remoteName === s.remoteId ? formatPhone(s.remoteId) : s.remoteName;
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

declare global {
  interface HTMLElementTagNameMap {
    'call-status': CallStatusElement;
  }
}
