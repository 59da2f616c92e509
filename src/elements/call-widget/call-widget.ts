import { html, nothing, type PropertyValues } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import type { CallClient } from '../../core/index.js';
import type { CallSnapshot } from '../../context/calling-context.js';
import type { CallDialDetail } from '../call-dialer/call-dialer.js';
import type { CallProviderElement } from '../call-provider/call-provider.js';
import { loadCallHistoryElement } from '../call-history/loader.js';
import { CallElement } from '../shared/call-element.js';
import { icons } from '../shared/icons.js';
import { styles } from './call-widget.styles.js';

/** The corner the widget sits in. */
export type WidgetPosition = 'bottom-right' | 'bottom-left' | 'top-right' | 'top-left';

/**
 * @summary The one-tag embed: a launcher button in a corner of the page that opens a panel with the dialer,
 * incoming call, video, status and controls, and a "Recent" view of the user's calls with a count of the calls
 * missed since they last looked. An incoming call pops it open. Made of `<call-provider>`, `<call-dialer>`,
 * `<incoming-call>`, `<video-view>`, `<call-status>`, `<call-controls>` and `<call-history>` in its shadow root,
 * so the page's CSS stays out and the widget's stays in.
 *
 * @attribute lang - The language of the widget (`en`, `sv`, or one registered with `registerTranslation`); unset follows the page.
 * @attribute theme - `light`, `dark`, or `auto` (default: follows `prefers-color-scheme`).
 *
 * @event call-widget-toggle - The panel opened or closed; `detail.open`.
 * @event call-change - (from the inner provider) The current call changed; `detail.call`.
 * @event call-connection-change - (from the inner provider) The connection changed; `detail.state`, `detail.error`.
 *
 * @csspart provider - The inner `<call-provider>`.
 * @csspart root - The wrapper of launcher and panel.
 * @csspart launcher - The round button that opens and closes the panel (`aria-expanded`).
 * @csspart badge - The connection dot on the launcher (green when online, red while a call rings in).
 * @csspart panel - The panel.
 * @csspart header - The panel's title row.
 * @csspart title - The panel's title.
 * @csspart close-button - Closes the panel.
 * @csspart recent-button - Switches between the dialer and the recent calls (`aria-pressed`).
 * @csspart missed-count - The number of calls missed since the user last looked at the recent calls (on the
 *   launcher and on the recent button; absent when none).
 * @csspart history - The inner `<call-history>` (the "Recent" view).
 * @csspart videos - The remote and local video views (video calls).
 *
 * @cssproperty --call-widget-offset - Distance from the page corner (default 1rem).
 * @cssproperty --call-widget-z-index - Stacking order (default 2147483000).
 * @cssproperty --call-color-accent - The launcher's color.
 * @cssproperty --call-color-background - The panel's background.
 * @cssproperty --call-color-border - The panel's border.
 * @cssproperty --call-radius - Corner radius.
 * @cssproperty --call-font-family - Font.
 */
export class CallWidgetElement extends CallElement {
  static override styles = [...CallElement.styles, styles];

  /** The calling server's URL, e.g. `http://localhost:9000`. */
  @property() server = '';
  /** This user's id. */
  @property({ attribute: 'user-id' }) userId = '';
  /** The name shown to the people this user calls. */
  @property({ attribute: 'display-name' }) displayName = '';
  /** A URL that returns a fresh signalling token (plain text or JSON `{ "token": "…" }`), fetched on every connect. */
  @property({ attribute: 'token-url' }) tokenUrl = '';
  /** `relay` sends all media through the calling server's TURN relay; default `all`. */
  @property({ attribute: 'ice-transport-policy' }) iceTransportPolicy: RTCIceTransportPolicy = 'all';
  /** How many calls at once (passed to the provider): 2 (default) allows call waiting, 1 declines a second call. */
  @property({ attribute: 'max-calls', type: Number }) maxCalls = 2;
  /** The corner: `bottom-right` (default), `bottom-left`, `top-right` or `top-left`. */
  @property({ reflect: true }) position: WidgetPosition = 'bottom-right';
  /** The call types the dialer offers, space separated: `user phone sip conference` (default all). */
  @property() modes = 'user phone sip conference';
  /** Allow video: offers video calls in the dialer. Without it calls are audio only both ways (video calls ringing in are answered with audio). */
  @property({ type: Boolean, reflect: true }) video = false;
  /** Whether the panel is open. */
  @property({ type: Boolean, reflect: true }) open = false;

  @state() private call: CallSnapshot | null = null;
  /** A second call ringing in during `call` (call waiting). */
  @state() private waiting: CallSnapshot | null = null;
  @state() private connection = 'disconnected';
  /** The "Recent" view instead of the dialer. */
  @state() private recent = false;
  /** Calls missed since the user last opened the "Recent" view. */
  @state() private missed = 0;
  /** Calls not ended, at the last change (a drop means a call ended). */
  private live = 0;
  @query('call-provider') private provider?: CallProviderElement;

  private sharedClient: CallClient | null = null;

  /**
   * The `CallClient` the widget's provider uses (null until `server` and `user-id` are set). Set it to share a
   * client you created (as `<call-provider>`'s `client`); the attributes then only style and label the widget.
   */
  get client(): CallClient | null { return this.provider?.client ?? this.sharedClient; }
  set client(client: CallClient | null) {
    this.sharedClient = client;
    this.requestUpdate();
  }

  /** Opens, closes or toggles the panel. */
  toggle(open = !this.open): void {
    if (open === this.open) return;
    this.open = open;
    this.emit('call-widget-toggle', { open });
  }

  private looks = '';

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    // The elements inside look up `lang` and `theme` in their own tree (the page's observer does not see into
    // ours): tell them when either changed.
    const looks = `${this.localize.lang()} ${this.closest('[theme]')?.getAttribute('theme')}`;
    if (looks === this.looks) return;
    this.looks = looks;
    for (const el of this.renderRoot.querySelectorAll('*')) if (el instanceof CallElement) el.requestUpdate();
  }

  override render() {
    const lang = this.localize.lang();
    // The widget's words come from the shared translations, so a language the app registers reaches it too.
    const t = this.localize.t;
    const theme = this.closest('[theme]')?.getAttribute('theme');
    const s = this.call;
    const active = s !== null && s.state !== 'ended';
    const ringing = active && s.direction === 'incoming' && (s.state === 'ringing' || s.state === 'progressing');
    const showVideo = active && s.hasVideo && s.state !== 'ringing';
    // The call ringing in: the current one, or one waiting beside it.
    const rings = ringing ? s : this.waiting;
    // Without `video`, a video call ringing in can only be answered with audio.
    const audioOnlyAnswer = rings !== null && !this.video && rings.details.isVideoOffered;
    const missed = this.missed ? html`<span part="missed-count" aria-hidden="true">${this.missed}</span>` : nothing;
    const missedLabel = this.missed ? `, ${t.missedCalls(this.missed)}` : '';
    return html`<call-provider part="provider" server=${this.server} user-id=${this.userId} display-name=${this.displayName}
        token-url=${this.tokenUrl} ice-transport-policy=${this.iceTransportPolicy} max-calls=${this.maxCalls} lang=${lang} .client=${this.sharedClient} theme=${theme === 'light' || theme === 'dark' ? theme : nothing}
        @call-change=${this.onCallChange} @call-connection-change=${this.onConnection} @call-dial=${this.onDial}>
        <div part="root" data-connection=${this.connection} ?data-ringing=${rings !== null} @keydown=${this.onKeydown}>
          <section part="panel" id="panel" aria-label=${t.widgetTitle} ?hidden=${!this.open}>
            <div part="header">
              <h2 part="title">${t.widgetTitle}</h2>
              <button part="recent-button" type="button" aria-pressed=${this.recent ? 'true' : 'false'} aria-label=${t.recentCalls + missedLabel}
                title=${t.recentCalls} ?hidden=${active} @click=${this.toggleRecent}>${icons.history}${missed}</button>
              <button part="close-button" type="button" aria-label=${t.closeCalls} title=${t.closeCalls} @click=${() => this.toggle(false)}>×</button>
            </div>
            <call-status></call-status>
            <incoming-call class=${audioOnlyAnswer ? 'audio-only' : nothing} ?audio-only=${!this.video}></incoming-call>
            ${showVideo
              ? html`<div part="videos"><video-view source="remote"></video-view><video-view source="local"></video-view></div>`
              : nothing}
            <call-dialer modes=${this.modes} ?hidden=${active || this.recent}></call-dialer>
            ${this.recent ? html`<call-history part="history" ?hidden=${active}></call-history>` : nothing}
            <call-controls ?hidden=${!active || ringing}></call-controls>
          </section>
          <button part="launcher" type="button" aria-expanded=${this.open ? 'true' : 'false'} aria-controls="panel"
            aria-label=${rings ? `${t.incomingCall}: ${rings.remoteName}` : (this.open ? t.closeCalls : t.openCalls) + missedLabel}
            @click=${() => this.toggle()}>${icons.phone}<span part="badge"></span>${missed}</button>
        </div>
      </call-provider>`;
  }

  /**
   * The inner provider connects (and reports) while the widget is still rendering or updating it: state changes
   * are applied in a microtask, in order, so they never land in the middle of our own update.
   */
  private apply(fn: () => void): void {
    queueMicrotask(fn);
  }

  private readonly onCallChange = (e: GlobalEventHandlersEventMap['call-change']) => {
    const { call, calls } = e.detail;
    this.apply(() => this.takeCall(call, calls));
  };

  private takeCall(s: CallSnapshot | null, calls: readonly CallSnapshot[]): void {
    const isNew = s !== null && s.call !== this.call?.call;
    // A call that ended (also one that rang in beside another and was not answered) may be a missed one.
    const live = calls.filter((c) => c.state !== 'ended').length;
    if (live < this.live) void this.countMissed();
    this.live = live;
    this.call = s;
    const waiting = calls.find((c) => c.call !== s?.call && c.direction === 'incoming' && c.state === 'ringing') ?? null;
    const newWaiting = waiting !== null && waiting.call !== this.waiting?.call;
    this.waiting = waiting;
    // A call ringing in (also during another call) pops the panel open (its Answer button then takes focus).
    if ((isNew && s.direction === 'incoming' && s.state !== 'ended') || newWaiting) this.toggle(true);
  }

  private readonly onConnection = (e: GlobalEventHandlersEventMap['call-connection-change']) => {
    const state = e.detail.state;
    this.apply(() => {
      const online = state === 'connected' && this.connection !== 'connected';
      this.connection = state;
      if (online) void this.countMissed();
    });
  };

  // Without `video`, every outgoing call is audio only whatever the dialer says.
  private readonly onDial = (e: CustomEvent<CallDialDetail>) => {
    if (!this.video) e.detail.video = false;
  };

  private readonly onKeydown = (e: KeyboardEvent) => {
    if (e.key !== 'Escape' || !this.open) return;
    this.toggle(false);
    this.renderRoot.querySelector<HTMLButtonElement>('[part="launcher"]')?.focus();
  };

  private readonly toggleRecent = async () => {
    this.recent = !this.recent;
    if (!this.recent) return;
    this.missed = 0;
    // The automatic loader does not look into shadow roots.
    const chunk = await loadCallHistoryElement().catch(() => null);
    const id = this.client?.userId ?? this.userId;
    if (chunk && id) chunk.markRecentSeen(id);
  };

  /** Counts the calls missed since the user last opened "Recent". */
  private async countMissed(): Promise<void> {
    const client = this.client;
    if (!client || this.recent) return;
    try {
      const missed = await (await loadCallHistoryElement()).missedSinceSeen(client);
      if (!this.recent) this.missed = missed;
    } catch {
      // no history (offline, chunk not loaded): no badge rather than a wrong one
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'call-widget': CallWidgetElement;
  }
  interface GlobalEventHandlersEventMap {
    'call-widget-toggle': CustomEvent<{ open: boolean }>;
  }
}
