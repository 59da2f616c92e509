import { html, nothing, type PropertyValues } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { audioControllerOf, CallController } from '../../context/call-controller.js';
import {
  CallingError, checkConferenceId, checkHeader, checkHeaders, checkPhoneNumber, checkSipAddress, checkUserId, type Call,
} from '../../core/index.js';
import { CallElement } from '../shared/call-element.js';
import { icons } from '../shared/icons.js';
import type { Translation } from '../shared/localize.js';
import { styles } from './call-dialer.styles.js';
import { formatPhone, normalizePhone } from './phone-format.js';

/** The four kinds of call the dialer places. */
export type DialMode = 'user' | 'phone' | 'sip' | 'conference';
const ALL_MODES: readonly DialMode[] = ['user', 'phone', 'sip', 'conference'];

/** What is about to be dialed. Listeners of `call-dial` may change it, or veto the call with `preventDefault()`. */
export interface CallDialDetail {
  mode: DialMode;
  /** User id, E.164 number ("+14155550101"), SIP address or conference id. */
  destination: string;
  /** User calls: with video. */
  video: boolean;
  /** SIP calls: custom `x-` headers. */
  headers: Record<string, string>;
}

/** The phone number dialed by the "Test number" shortcut: it plays a voice prompt and hangs up. */
export const TEST_NUMBER = '+46000000000';
const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'] as const;

interface HeaderRow { id: number; name: string; value: string }

/**
 * @summary Places calls: to another user (audio or video), a phone number, a SIP address, or a conference.
 *
 * @event call-dial - Cancelable, before dialing. `detail` is a `CallDialDetail` `{ mode, destination, video,
 * headers }`; change it to dial something else, or call `preventDefault()` to dial nothing.
 * @event call-dial-error - Dialing failed (the client refused, or the call ended with an error);
 * `detail.error` is the `CallingError`.
 *
 * @csspart form - The form.
 * @csspart modes - The group of call types.
 * @csspart mode - One call type choice (also `mode-selected` when chosen).
 * @csspart field - The destination label and input.
 * @csspart label - The destination label.
 * @csspart input - The destination input.
 * @csspart video-toggle - The "Video" checkbox label (user calls).
 * @csspart keypad - The on-screen keypad (phone calls).
 * @csspart key - A keypad key.
 * @csspart test-number - The test number shortcut (phone calls).
 * @csspart headers - The custom header editor (SIP calls).
 * @csspart header-row - One header's name and value inputs.
 * @csspart header-name - A header name input.
 * @csspart header-value - A header value input.
 * @csspart remove-header - A header's remove button.
 * @csspart add-header - The add header button.
 * @csspart error - The inline validation or dialing error (announced).
 * @csspart call-button - The Call / Join button.
 * @csspart row - A row of buttons (keypad, test number, add header).
 *
 * @cssproperty --call-color-accent - The selected call type.
 * @cssproperty --call-color-success - The Call button.
 * @cssproperty --call-color-danger - Error text and invalid inputs.
 * @cssproperty --call-color-surface - Keypad background.
 * @cssproperty --call-color-border - Input and button borders.
 * @cssproperty --call-radius - Corner radius.
 * @cssproperty --call-spacing - Spacing.
 * @cssproperty --call-font-family - Font.
 */
export class CallDialerElement extends CallElement {
  static override styles = [...CallElement.styles, styles];

  /** The selected call type. */
  @property({ reflect: true }) mode: DialMode = 'user';
  /** The call types offered, space separated (default all four). */
  @property() modes = ALL_MODES.join(' ');
  /** Whether user calls are video calls (the "Video" checkbox). */
  @property({ type: Boolean }) video = false;

  @state() private values: Record<DialMode, string> = { user: '', phone: '', sip: '', conference: '' };
  @state() private headers: HeaderRow[] = [];
  @state() private error = '';
  /** Which input the error is about: `dest` or `h<id>-name` / `h<id>-value`. */
  @state() private invalid = '';
  @query('#dest') private input?: HTMLInputElement;

  private readonly calling = new CallController(this);
  private placed: Call | null = null;
  private nextHeaderId = 1;

  /** The destination typed for the current mode. */
  get value(): string { return this.values[this.mode]; }
  set value(v: string) { this.setValue(this.mode, v); }

  /** Dials what is entered, as pressing Call does. Returns the call, or null when nothing was dialed. */
  dial(): Call | null {
    this.error = '';
    this.invalid = '';
    const t = this.localize.t;
    if (!this.calling.isConnected || !this.calling.client) return this.fail('', t.notConnected);
    // One call at a time, as the provider tracks one: the Call button is disabled meanwhile too.
    if (this.calling.activeCall) return null;
    const d = this.validate();
    if (!d) return null;
    if (!this.emit('call-dial', d, { cancelable: true })) return null;
    const client = this.calling.client;
    try {
      const call =
        d.mode === 'phone' ? client.callPhoneNumber(d.destination)
        : d.mode === 'sip' ? client.callSip(d.destination, { headers: d.headers })
        : d.mode === 'conference' ? client.callConference(d.destination)
        : d.video ? client.callUserVideo(d.destination, { headers: d.headers })
        : client.callUser(d.destination, { headers: d.headers });
      this.placed = call;
      return call;
    } catch (err) {
      const error = err instanceof CallingError ? err : new CallingError('api', 'unknown', String(err));
      this.emit('call-dial-error', { error });
      return this.fail('', error);
    }
  }

  protected override willUpdate(changed: PropertyValues): void {
    super.willUpdate(changed);
    const offered = this.offeredModes();
    if (!offered.includes(this.mode)) this.mode = offered[0] ?? 'user';
    // A call this dialer placed that ends with an error (e.g. the gateway is unavailable) explains itself here.
    const s = this.calling.snapshot;
    if (this.placed && s?.call === this.placed && s.state === 'ended') {
      this.placed = null;
      if (s.details.error) {
        this.error = this.localize.error(s.details.error);
        this.emit('call-dial-error', { error: s.details.error });
      }
    }
  }

  override render() {
    const t = this.localize.t;
    const offered = this.offeredModes();
    const busy = this.calling.activeCall !== null;
    const labels: Record<DialMode, string> = { user: t.modeUser, phone: t.modePhone, sip: t.modeSip, conference: t.modeConference };
    const inputLabels: Record<DialMode, string> = { user: t.userId, phone: t.phoneNumber, sip: t.sipAddress, conference: t.conferenceId };
    return html`<form part="form" novalidate @submit=${this.onSubmit}>
      ${offered.length > 1
        ? html`<fieldset part="modes">
            <legend class="sr-only">${t.callType}</legend>
            ${offered.map((m) => html`<label part=${m === this.mode ? 'mode mode-selected' : 'mode'}>
              <input type="radio" name="mode" .value=${m} .checked=${m === this.mode} @change=${() => this.selectMode(m)} />${labels[m]}
            </label>`)}
          </fieldset>`
        : nothing}
      <div part="field">
        <label part="label" for="dest">${inputLabels[this.mode]}</label>
        <input
          id="dest"
          part="input"
          type=${this.mode === 'phone' ? 'tel' : 'text'}
          inputmode=${this.mode === 'phone' ? 'tel' : this.mode === 'sip' ? 'email' : 'text'}
          autocomplete="off"
          spellcheck="false"
          placeholder=${{ user: 'bob', phone: '+14155550101', sip: 'user@example.com', conference: 'team-standup' }[this.mode]}
          .value=${this.values[this.mode]}
          aria-invalid=${this.invalid === 'dest' ? 'true' : 'false'}
          aria-describedby="error"
          @input=${this.onInput}
        />
      </div>
      ${this.mode === 'user'
        ? html`<label part="video-toggle"><input type="checkbox" .checked=${this.video} @change=${(e: Event) => {
            this.video = (e.target as HTMLInputElement).checked;
          }} /> ${t.video}</label>`
        : nothing}
      ${this.mode === 'phone' ? this.renderKeypad(t) : nothing}
      ${this.mode === 'sip' ? this.renderHeaders(t) : nothing}
      <p id="error" part="error" class="error" role="alert">${this.error}</p>
      <button part="call-button" class="primary" type="submit" ?disabled=${!this.calling.isConnected || busy}>
        ${icons.phone}${this.mode === 'conference' ? t.join : t.call}
      </button>
    </form>`;
  }

  private renderKeypad(t: Translation) {
    return html`<div part="row">
        <div part="keypad" role="group" aria-label=${t.keypad}>
          ${KEYS.map((k) => html`<button part="key" type="button" @click=${() => this.press(k)}>${k}</button>`)}
          <button part="key" type="button" @click=${() => this.press('+')}>+</button>
        </div>
      </div>
      <div part="row">
        <button part="test-number" type="button" @click=${() => this.setValue('phone', formatPhone(TEST_NUMBER), true)}>
          ${t.testNumber} <span dir="ltr">${formatPhone(TEST_NUMBER)}</span>
        </button>
      </div>`;
  }

  private renderHeaders(t: Translation) {
    return html`<fieldset part="headers">
      <legend>${t.headers}</legend>
      ${repeat(this.headers, (h) => h.id, (h) => html`<div part="header-row">
        <input part="header-name" id=${`h${h.id}-name`} aria-label=${t.headerName} placeholder="x-name" autocomplete="off"
          spellcheck="false" .value=${h.name} aria-invalid=${this.invalid === `h${h.id}-name` ? 'true' : 'false'}
          aria-describedby="error" @input=${(e: Event) => this.editHeader(h.id, 'name', e)} />
        <input part="header-value" id=${`h${h.id}-value`} aria-label=${t.headerValue} autocomplete="off" .value=${h.value}
          aria-invalid=${this.invalid === `h${h.id}-value` ? 'true' : 'false'} aria-describedby="error"
          @input=${(e: Event) => this.editHeader(h.id, 'value', e)} />
        <button part="remove-header" type="button" aria-label=${t.removeHeader(h.name)} @click=${() => this.removeHeader(h.id)}>×</button>
      </div>`)}
      <div part="row"><button part="add-header" type="button" @click=${this.addHeader}>${t.addHeader}</button></div>
    </fieldset>`;
  }

  // ---------------------------------------------------------------------------------------------------------------

  private offeredModes(): DialMode[] {
    const wanted = this.modes.split(/\s+/);
    return ALL_MODES.filter((m) => wanted.includes(m));
  }

  private selectMode(mode: DialMode): void {
    this.mode = mode;
    this.error = '';
    this.invalid = '';
  }

  private setValue(mode: DialMode, value: string, focus = false): void {
    this.values = { ...this.values, [mode]: value };
    if (focus) void this.updateComplete.then(() => this.input?.focus());
  }

  private readonly onInput = (e: Event) => {
    const input = e.target as HTMLInputElement;
    let value = input.value;
    // Reformat only while typing at the end, so editing in the middle does not make the caret jump.
    if (this.mode === 'phone' && input.selectionStart === value.length) {
      value = formatPhone(value);
      if (value !== input.value) input.value = value;
    }
    this.setValue(this.mode, value);
    if (this.invalid === 'dest') {
      this.invalid = '';
      this.error = '';
    }
  };

  private press(key: string): void {
    const current = this.values.phone;
    if (key === '+' && current) return;
    this.setValue('phone', formatPhone(current + key));
    if (/^[0-9*#]$/.test(key)) void audioControllerOf(this.calling.client)?.playDtmf?.(key);
  }

  private readonly addHeader = () => {
    const id = this.nextHeaderId++;
    this.headers = [...this.headers, { id, name: '', value: '' }];
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>(`#h${id}-name`)?.focus());
  };

  private removeHeader(id: number): void {
    this.headers = this.headers.filter((h) => h.id !== id);
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLButtonElement>('[part="add-header"]')?.focus());
  }

  private editHeader(id: number, field: 'name' | 'value', e: Event): void {
    const value = (e.target as HTMLInputElement).value;
    this.headers = this.headers.map((h) => (h.id === id ? { ...h, [field]: value } : h));
  }

  private readonly onSubmit = (e: Event) => {
    e.preventDefault();
    this.dial();
  };

  /**
   * Checks the input of the current mode with core's validators; returns what to dial, or shows why not (the
   * error's code in the page's language) and returns null.
   */
  private validate(): CallDialDetail | null {
    const mode = this.mode;
    const raw = this.values[mode].trim();
    const destination = mode === 'phone' ? normalizePhone(raw) : raw;
    const detail: CallDialDetail = { mode, destination, video: mode === 'user' && this.video, headers: {} };
    const check = { user: checkUserId, phone: checkPhoneNumber, sip: checkSipAddress, conference: checkConferenceId }[mode];
    const bad = check(destination);
    if (bad) return this.fail('dest', bad);
    if (mode !== 'sip') return detail;
    for (const h of this.headers) {
      const name = h.name.trim();
      if (!name && !h.value) continue;
      const badHeader = checkHeader(name, h.value);
      if (badHeader) return this.fail(`h${h.id}-${badHeader.code === 'invalid-header-name' ? 'name' : 'value'}`, badHeader);
      detail.headers[name] = h.value;
    }
    const tooMany = checkHeaders(detail.headers);
    return tooMany ? this.fail('', tooMany) : detail;
  }

  private fail(field: string, error: CallingError | string): null {
    this.error = typeof error === 'string' ? error : this.localize.error(error);
    this.invalid = field;
    if (field) {
      // Keyboard users land on the field to fix; the message is announced through role="alert".
      void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>(`#${field}`)?.focus());
    }
    return null;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'call-dialer': CallDialerElement;
  }
  interface GlobalEventHandlersEventMap {
    'call-dial': CustomEvent<CallDialDetail>;
    'call-dial-error': CustomEvent<{ error: CallingError }>;
  }
}
