// Shared with the bundle through the chunk host only (see ../shared/chunk-host.ts): this module ships in a lazy chunk.
import { CallController, CallElement, css, formatPhone, html, icon, icons, nothing } from '../shared/chunk-host.js';
import { isMissed } from '../../core/call-history.js';
import type { PropertyValues } from 'lit';
import type { Call, CallHistoryEntry, CallingError } from '../../core/index.js';
import type { HistoryTranslation, Translation } from '../shared/localize.js';
import { historyTranslations } from './translations.js';

const arrow = {
  outgoing: icon('M9 5v2h6.59L4 18.59 5.41 20 17 8.41V15h2V5z'),
  incoming: icon('M20 5.41 18.59 4 7 15.59V9H5v10h10v-2H8.41z'),
  missed: icon('M19.59 7 12 14.59 6.41 9H11V7H3v8h2v-4.59l7 7 9-9z'),
};
const group = icon('M16 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm-8 0a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm0 2c-2.33 0-7 1.17-7 3.5V19h14v-2.5c0-2.33-4.67-3.5-7-3.5zm8 0c-.29 0-.62.02-.97.05A4.22 4.22 0 0 1 17 16.5V19h6v-2.5c0-2.33-4.67-3.5-7-3.5z');

const styles = css`
  [part='list'] { list-style: none; margin: 0; padding: 0; }
  [part~='row'] {
    display: flex; align-items: center; gap: var(--_space); padding: calc(var(--_space) / 2) 0;
    border-bottom: 1px solid var(--call-history-divider, var(--_surface));
  }
  [part='icons'] { display: inline-flex; gap: 2px; color: var(--_muted); }
  [part~='missed'] [part='icons'], [part~='missed'] [part='name'] { color: var(--call-history-missed-color, var(--_danger)); }
  [part='text'] { flex: 1; min-width: 0; display: flex; flex-direction: column; }
  [part='name'] { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  [part='meta'] { color: var(--_muted); font-size: 0.875em; }
  [part='duration'] { font-variant-numeric: tabular-nums; }
  [part='status'] { margin: var(--_space) 0; color: var(--_muted); }
  [part='error'] { margin: var(--_space) 0; color: var(--_danger); }
  [part='load-more'], [part='retry'] { margin-top: var(--_space); }
`;

/**
 * @summary The signed-in user's recent calls, newest first, each with a call-back button; pages on with "Show
 * more". Inside a `<call-provider>`: it loads when the provider connects, and again after each call ends.
 *
 * The element's definition arrives in a lazy chunk: the bundle fetches it as soon as a `<call-history>` is in the
 * document (or on idle, with the other chunks), and the element upgrades then. Inside a shadow root, call
 * `loadCallHistoryElement()` first.
 *
 * @event call-history-load - A page arrived; `detail.entries`: every entry shown so far, newest first.
 * @event call-history-dial - Cancelable, before a call-back is placed; `detail.entry`. `preventDefault()` dials nothing.
 * @event call-dial-error - A call-back could not be placed; `detail.error`.
 *
 * @csspart list - The list of calls (`<ul>`).
 * @csspart row - One call (`<li>`); also `missed` on missed calls.
 * @csspart missed - A missed call's row.
 * @csspart icons - The direction and call-type icons.
 * @csspart text - The name and meta lines of a row.
 * @csspart name - The other party's name or number.
 * @csspart meta - The line with when, and the duration or the outcome.
 * @csspart time - When the call started (`<time>`).
 * @csspart duration - How long an answered call lasted.
 * @csspart call-back-button - Dials the same destination again.
 * @csspart load-more - "Show more", while there may be older calls.
 * @csspart status - The loading and empty messages (`role="status"`).
 * @csspart error - The message when the calls could not be loaded (`role="alert"`).
 * @csspart retry - "Try again" after an error.
 *
 * @cssproperty --call-history-missed-color - Icon and name of missed calls (default: the danger color).
 * @cssproperty --call-history-divider - The line between rows (default: the surface color).
 * @cssproperty --call-color-success - The call-back buttons.
 * @cssproperty --call-color-text-muted - Icons and the meta line.
 * @cssproperty --call-spacing - Spacing.
 * @cssproperty --call-radius - Corner radius of the buttons.
 */
export class CallHistoryElement extends CallElement {
  static override styles = [...CallElement.styles, styles];
  static override properties = {
    limit: { type: Number },
    entries: { attribute: false },
    loading: { state: true, attribute: false },
    error: { state: true, attribute: false },
    more: { state: true, attribute: false },
  };

  /** Calls per page, 1 to 100 (default 20). */
  declare limit: number;
  /** The calls shown, newest first (read only). */
  declare readonly entries: readonly CallHistoryEntry[];
  declare private loading: boolean;
  declare private error: CallingError | null;
  /** Whether the last page was full, so older calls may exist. */
  declare private more: boolean;

  private readonly calling = new CallController(this);
  /** The client and call the list was last loaded for: a new client or a call that ended loads it again. */
  private loadedFor: unknown = null;
  private endedCall: Call | null = null;
  /** Bumped per reload: an answer for an older request is dropped. */
  private generation = 0;

  constructor() {
    super();
    this.limit = 20;
    (this as { entries: readonly CallHistoryEntry[] }).entries = [];
    this.loading = false;
    this.error = null;
    this.more = false;
  }

  /** Loads the first page again. */
  refresh(): Promise<void> {
    return this.load(false);
  }

  protected override willUpdate(changed: PropertyValues): void {
    super.willUpdate(changed);
    const client = this.calling.isConnected ? this.calling.client : null;
    const s = this.calling.snapshot;
    const ended = s?.state === 'ended' ? s.call : null;
    if (client && (client !== this.loadedFor || (ended && ended !== this.endedCall))) {
      this.loadedFor = client;
      this.endedCall = ended;
      void this.load(false);
    }
  }

  private async load(append: boolean): Promise<void> {
    const client = this.calling.client;
    if (!client) return;
    const generation = ++this.generation;
    const before = append ? this.entries.at(-1)?.callId : undefined;
    this.loading = true;
    this.error = null;
    try {
      const page = await client.getCallHistory({ limit: this.limit, ...(before ? { before } : {}) });
      if (generation !== this.generation) return;
      (this as { entries: readonly CallHistoryEntry[] }).entries = append ? [...this.entries, ...page] : page;
      this.more = page.length === this.limit;
      this.emit('call-history-load', { entries: this.entries });
    } catch (err) {
      if (generation === this.generation) this.error = err as CallingError;
    } finally {
      if (generation === this.generation) this.loading = false;
    }
  }

  private get strings(): HistoryTranslation {
    const lang = this.localize.lang();
    return this.localize.t.history ?? historyTranslations[lang] ?? historyTranslations[lang.split('-')[0]!] ?? historyTranslations.en!;
  }

  override render() {
    const h = this.strings;
    const t = this.localize.t;
    const { entries, loading, error } = this;
    // A call-back needs a connection and no call going on.
    const canDial = this.calling.isConnected && !this.calling.activeCall;
    return html`<section aria-label=${h.recentCalls}>
      ${entries.length
        ? html`<ul part="list">${entries.map((e) => this.row(e, t, h, canDial))}</ul>`
        : nothing}
      <p part="status" role="status">${loading ? h.loading : !error && !entries.length && this.loadedFor ? h.empty : nothing}</p>
      ${error
        ? html`<p part="error" role="alert">${h.error}</p>
            <button part="retry" type="button" @click=${() => void this.load(entries.length > 0)}>${h.retry}</button>`
        : this.more && !loading
          ? html`<button part="load-more" type="button" @click=${() => void this.load(true)}>${h.loadMore}</button>`
          : nothing}
    </section>`;
  }

  private row(e: CallHistoryEntry, t: Translation, h: HistoryTranslation, canDial: boolean) {
    const missed = isMissed(e);
    const name = e.remoteDisplayName ?? (e.callType === 'phone' ? formatPhone(e.remote) : e.remote);
    const direction = missed ? h.missedCall : e.direction === 'outgoing' ? h.outgoingCall : t.incomingCall;
    const kind = e.callType === 'user' ? (e.video ? t.videoCall : t.audioCall)
      : { phone: t.modePhone, sip: t.modeSip, conference: t.modeConference }[e.callType];
    const outcome = e.answered ? html`<span part="duration">${this.localize.duration(e.duration)}</span>`
      : missed || e.endCause === 'signallingLost' ? nothing : t.ended[e.endCause];
    return html`<li part=${missed ? 'row missed' : 'row'}>
      <span part="icons" aria-hidden="true">${arrow[missed ? 'missed' : e.direction]}${e.video ? icons.video : e.callType === 'conference' ? group : icons.phone}</span>
      <span part="text">
        <span part="name">${name}</span>
        <span part="meta"><span class="sr-only">${direction}, ${kind}, </span><time part="time" datetime=${e.startedAt.toISOString()}>${this.when(e.startedAt)}</time>${outcome === nothing ? nothing : html` · ${outcome}`}</span>
      </span>
      <button part="call-back-button" class="primary" type="button" aria-label=${h.callBack(name)} title=${h.callBack(name)}
        ?disabled=${!canDial} @click=${() => this.callBack(e)}>${icons.phone}</button>
    </li>`;
  }

  /** "5 minutes ago" within the last day, else a short date and time, in the element's language. */
  private when(at: Date): string {
    const lang = this.localize.lang();
    const seconds = (at.getTime() - Date.now()) / 1000;
    if (seconds > -86_400) {
      const rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
      if (seconds > -60) return rtf.format(Math.min(0, Math.round(seconds)), 'second');
      if (seconds > -3600) return rtf.format(Math.round(seconds / 60), 'minute');
      return rtf.format(Math.round(seconds / 3600), 'hour');
    }
    return new Intl.DateTimeFormat(lang, { dateStyle: 'short', timeStyle: 'short' }).format(at);
  }

  /** Dials the entry's destination again through the provider's client (video again for a video user call). */
  private callBack(e: CallHistoryEntry): void {
    const client = this.calling.client;
    if (!client || !this.emit('call-history-dial', { entry: e }, { cancelable: true })) return;
    try {
      if (e.callType === 'phone') client.callPhoneNumber(e.remote);
      else if (e.callType === 'sip') client.callSip(e.remote);
      else if (e.callType === 'conference') client.callConference(e.remote);
      else if (e.video) client.callUserVideo(e.remote);
      else client.callUser(e.remote);
    } catch (err) {
      this.emit('call-dial-error', { error: err as CallingError });
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'call-history': CallHistoryElement;
  }
  interface GlobalEventHandlersEventMap {
    'call-history-load': CustomEvent<{ entries: readonly CallHistoryEntry[] }>;
    'call-history-dial': CustomEvent<{ entry: CallHistoryEntry }>;
  }
}
