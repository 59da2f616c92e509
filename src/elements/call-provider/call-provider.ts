import { html, type PropertyValues } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { ContextProvider } from '@lit/context';
import {
  CallClient, CallingError, type Call, type CallClientErrorEvent, type CallStartedEvent, type ConnectionState,
  type ConnectionStateChangeEvent, type IncomingCallEvent, type TokenSource,
} from '../../core/index.js';
import { preloadChunks } from '../../core/chunks.js';
import { callingContext, currentCallOf, snapshotOf, type CallingState, type CallSnapshot } from '../../context/calling-context.js';
import { audioControllerOf } from '../../context/call-controller.js';
import { CallElement } from '../shared/call-element.js';
import { styles } from './call-provider.styles.js';

const CALL_EVENTS = ['statechange', 'detailschange', 'mediachange', 'remotestream', 'holdchange', 'ended'] as const;

/**
 * @summary Connects to the calling server and shares the client and the current call with the elements inside.
 *
 * @slot - The calling UI: `<call-dialer>`, `<incoming-call>`, `<video-view>`, `<call-status>`, `<call-controls>`…
 *
 * @event call-connection-change - The signalling connection changed; `detail.state`, `detail.error`.
 * @event call-change - The current call changed (new call, new state, media, hold); `detail.call` is a snapshot or
 *   null, `detail.calls` every call that has not ended (two with call waiting).
 *
 * @csspart remote-audio - The hidden `<audio>` element that plays the remote party's sound.
 *
 * @cssproperty --call-color-background - Background of buttons, inputs and panels.
 * @cssproperty --call-color-surface - Background of grouped areas (dialogs, keypads, placeholders).
 * @cssproperty --call-color-text - Text color.
 * @cssproperty --call-color-text-muted - Secondary text color.
 * @cssproperty --call-color-border - Borders of buttons and inputs.
 * @cssproperty --call-color-accent - Accent (selected mode, links, focus).
 * @cssproperty --call-color-on-accent - Text on the accent color.
 * @cssproperty --call-color-success - Call / Answer buttons.
 * @cssproperty --call-color-on-success - Text on Call / Answer buttons.
 * @cssproperty --call-color-danger - Hang up / Decline buttons and error text.
 * @cssproperty --call-color-on-danger - Text on Hang up / Decline buttons.
 * @cssproperty --call-color-focus - Focus ring.
 * @cssproperty --call-radius - Corner radius.
 * @cssproperty --call-spacing - Base spacing unit.
 * @cssproperty --call-font-family - Font family.
 * @cssproperty --call-font-size - Base font size.
 */
export class CallProviderElement extends CallElement {
  static override styles = [...CallElement.styles, styles];

  /** The calling server's URL, e.g. `http://localhost:9000`. */
  @property() server = '';
  /** This user's id. */
  @property({ attribute: 'user-id' }) userId = '';
  /** The name shown to the people this user calls. */
  @property({ attribute: 'display-name' }) displayName = '';
  /** A token (JWT) for the calling server. */
  @property() token = '';
  /**
   * A URL that returns a fresh token (plain text, or JSON `{ "token": "…" }`), fetched on every connect with
   * `userId=<user-id>` added unless present. Without `token` and `token-url` the provider asks the server's
   * demo-mode endpoint `<server>/dev/token`.
   */
  @property({ attribute: 'token-url' }) tokenUrl = '';
  /** `relay` sends all media through the calling server's TURN relay (hides addresses); default `all`. */
  @property({ attribute: 'ice-transport-policy' }) iceTransportPolicy: RTCIceTransportPolicy = 'all';
  /**
   * How many calls the user takes at once: 2 (default) lets a second call ring in during a call (call waiting:
   * "Hold and answer"); 1 declines it at once (the caller sees `denied`). Applies to the client the provider makes.
   */
  @property({ attribute: 'max-calls', type: Number }) maxCalls = 2;
  /** The signalling connection's state (reflected, for styling). */
  @property({ attribute: 'connection-state', reflect: true }) connectionState: ConnectionState = 'disconnected';

  @state() private current: CallSnapshot | null = null;
  @state() private liveCalls: readonly CallSnapshot[] = [];
  @state() private activeSnapshot: CallSnapshot | null = null;
  @state() private error: CallingError | null = null;
  @state() private audioBlocked = false;
  @state() private audioOutput = '';
  @query('audio') private audioEl?: HTMLAudioElement;

  private _client: CallClient | null = null;
  /** A client given through the `client` property: shared, never stopped by the provider. */
  private external: CallClient | null = null;
  /** The options the owned client was made from, to know when the attributes ask for a new one. */
  private ownedKey = '';
  /** The client's calls the provider follows (live ones; the last ended one until another call comes). */
  private readonly tracked = new Set<Call>();
  private lastEnded: Call | null = null;
  private readonly provider = new ContextProvider(this, { context: callingContext, initialValue: this.buildState() });

  /**
   * The `CallClient` in use. Set it to share a client you created (the provider enables calling and starts it
   * if needed, and never stops it); otherwise the provider creates one from its attributes.
   */
  get client(): CallClient | null { return this._client; }
  set client(client: CallClient | null) {
    if (client === this._client) return;
    this.detachClient();
    this.external = client;
    if (client && this.isConnected) this.attachClient(client);
    else if (!client && this.isConnected) this.ensureClient();
    this.requestUpdate();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.external) this.attachClient(this.external);
    else this.ensureClient();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    // A provider taken out of the page hangs up and goes offline; put back, it connects again.
    this.detachClient();
    this.ownedKey = '';
  }

  protected override willUpdate(changed: PropertyValues): void {
    super.willUpdate(changed);
    if (!this.external && this.isConnected) this.ensureClient();
    this.provider.setValue(this.buildState());
  }

  protected override firstUpdated(changed: PropertyValues): void {
    super.firstUpdated(changed);
    // Painted: fetch the SDK's lazy chunks while the page is idle, so the first call never waits on the network.
    preloadChunks();
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    this.syncAudio();
  }

  override render() {
    return html`<slot></slot><audio part="remote-audio" autoplay></audio>`;
  }

  // ---------------------------------------------------------------------------------------------------------------

  private buildState(): CallingState {
    const client = this._client;
    return Object.freeze({
      client,
      connectionState: this.connectionState,
      error: this.error,
      call: this.current,
      calls: this.liveCalls,
      activeCall: this.activeSnapshot,
      localName: client?.displayName ?? client?.userId ?? '',
      audioBlocked: this.audioBlocked,
      audioOutput: this.audioOutput,
      setAudioOutput: (id: string) => this.setAudioOutput(id),
      unlockAudio: () => this.unlockAudio(),
    });
  }

  private ensureClient(): void {
    const key = JSON.stringify([this.server, this.userId, this.displayName, this.token, this.tokenUrl, this.iceTransportPolicy, this.maxCalls]);
    // Same options as the client made last time (or the last failed attempt): nothing to do.
    if (key === this.ownedKey) return;
    this.detachClient();
    if (!this.server || !this.userId) return;
    this.ownedKey = key;
    let client: CallClient;
    try {
      // No token configured: use the server's demo-mode token endpoint (absent, and so failing, in production).
      const tokenUrl = this.tokenUrl || (this.token ? '' : `${this.server.replace(/\/+$/, '')}/dev/token`);
      const userId = this.userId;
      const token: TokenSource | undefined = tokenUrl ? () => fetchToken(tokenUrl, userId) : this.token;
      client = new CallClient({
        server: this.server,
        userId: this.userId,
        ...(this.displayName ? { displayName: this.displayName } : {}),
        ...(token ? { token } : {}),
        ...(this.iceTransportPolicy === 'relay' ? { iceTransportPolicy: 'relay' as const } : {}),
        maxCalls: this.maxCalls,
      });
    } catch (err) {
      this.setError(err);
      return;
    }
    this.attachClient(client);
  }

  private attachClient(client: CallClient): void {
    this._client = client;
    client.addEventListener('connectionstatechange', this.onConnectionState);
    client.addEventListener('incomingcall', this.onIncoming);
    client.addEventListener('callstarted', this.onStarted);
    client.addEventListener('error', this.onClientError);
    client.addEventListener('devicechange', this.onDevices);
    this.connectionState = client.connectionState;
    for (const call of client.activeCalls) this.track(call);
    if (client.connectionState === 'disconnected') {
      try {
        if (!client.isCallingSupported) client.setSupportCalling(true);
        client.start().catch((err: unknown) => this.setError(err));
      } catch (err) {
        this.setError(err);
      }
    }
  }

  private detachClient(): void {
    const client = this._client;
    if (!client) return;
    client.removeEventListener('connectionstatechange', this.onConnectionState);
    client.removeEventListener('incomingcall', this.onIncoming);
    client.removeEventListener('callstarted', this.onStarted);
    client.removeEventListener('error', this.onClientError);
    client.removeEventListener('devicechange', this.onDevices);
    this.untrackAll();
    if (client !== this.external) void client.stop();
    this._client = null;
    this.ownedKey = '';
    this.connectionState = 'disconnected';
  }

  private readonly onConnectionState = (e: ConnectionStateChangeEvent) => {
    this.connectionState = e.state;
    if (e.state === 'connected') this.error = null;
    if (e.error) this.error = e.error;
    this.emit('call-connection-change', { state: e.state, error: e.error ?? null });
  };

  private readonly onClientError = (e: CallClientErrorEvent) => {
    this.error = e.error;
  };

  private readonly onStarted = (e: CallStartedEvent) => this.track(e.call);

  /** The call's sound goes to the client's chosen output (`client.setAudioOutputDevice()`, or back to the default). */
  private readonly onDevices = () => {
    const id = this._client?.chosenDevices.audioOutput ?? '';
    if (id !== this.audioOutput) this.setAudioOutput(id).catch(() => undefined);
  };

  // Calls beyond the client's `maxCalls` are declined by the client itself and never arrive here.
  private readonly onIncoming = (e: IncomingCallEvent) => this.track(e.call);

  private track(call: Call): void {
    if (this.tracked.has(call) || call.state === 'ended') return;
    this.tracked.add(call);
    for (const type of CALL_EVENTS) call.addEventListener(type, this.onCallChange);
    this.refresh();
  }

  private untrackAll(): void {
    for (const call of this.tracked) for (const type of CALL_EVENTS) call.removeEventListener(type, this.onCallChange);
    this.tracked.clear();
    this.lastEnded = null;
    this.refresh();
  }

  private readonly onCallChange = () => this.refresh();

  private refresh(): void {
    for (const call of this.tracked) {
      if (call.state !== 'ended') continue;
      // An ended call stays the current one (its outcome shown) only while no other call goes on.
      this.lastEnded = call;
      this.tracked.delete(call);
      for (const type of CALL_EVENTS) call.removeEventListener(type, this.onCallChange);
    }
    const live = [...this.tracked];
    const call = currentCallOf(live) ?? this.lastEnded;
    this.liveCalls = Object.freeze(live.map(snapshotOf));
    this.current = call ? this.liveCalls.find((c) => c.call === call) ?? snapshotOf(call) : null;
    // Going on: placed or answered, and not held by this user (a call still ringing in is not).
    this.activeSnapshot = this.current && this.current.state !== 'ended' && !this.current.isOnHold
      && !(this.current.direction === 'incoming' && this.current.state === 'ringing') ? this.current : null;
    this.emit('call-change', { call: this.current, calls: this.liveCalls });
  }

  private syncAudio(): void {
    const audio = this.audioEl;
    if (!audio) return;
    const stream = this.current && this.current.state !== 'ended' ? this.current.remoteStream : null;
    if (audio.srcObject === stream) return;
    audio.srcObject = stream;
    this.audioBlocked = false;
    // The remote sound is ours to play (the audio controller plays the SDK's tones); a blocked play is shown.
    if (stream) audio.play().catch(() => { this.audioBlocked = audio.srcObject === stream; });
  }

  /** Plays the remote audio after a user gesture, when the browser blocked it. */
  async unlockAudio(): Promise<void> {
    const ac = audioControllerOf(this._client);
    const audio = this.audioEl;
    await Promise.all([ac?.locked ? ac.unlock() : undefined, audio?.srcObject ? audio.play() : undefined]);
    this.audioBlocked = false;
  }

  private async setAudioOutput(deviceId: string): Promise<void> {
    const audio = this.audioEl as (HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> }) | undefined;
    if (!audio?.setSinkId) throw new CallingError('capability', 'sink-not-supported', 'This browser cannot choose the audio output.');
    await audio.setSinkId(deviceId);
    this.audioOutput = deviceId;
  }

  private setError(err: unknown): void {
    this.error = err instanceof CallingError ? err : new CallingError('api', 'unknown', String(err instanceof Error ? err.message : err));
    this.emit('call-connection-change', { state: this.connectionState, error: this.error });
  }
}

/** Fetches a token; the URL gets `userId=<id>` unless it names the user itself. */
async function fetchToken(url: string, userId: string): Promise<string> {
  const target = new URL(url, document.baseURI);
  if (!target.searchParams.has('userId')) target.searchParams.set('userId', userId);
  const res = await fetch(target, { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`token request failed: ${res.status}`);
  const text = await res.text();
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null && typeof (body as { token?: unknown }).token === 'string') {
      return (body as { token: string }).token;
    }
    throw new Error('token response has no "token" field');
  }
  return text.trim();
}

declare global {
  interface HTMLElementTagNameMap {
    'call-provider': CallProviderElement;
  }
  interface GlobalEventHandlersEventMap {
    'call-connection-change': CustomEvent<{ state: ConnectionState; error: CallingError | null }>;
    'call-change': CustomEvent<{ call: CallSnapshot | null; calls: readonly CallSnapshot[] }>;
  }
}
