import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { CallEndCause, CallingError } from '../../core/index.js';

/**
 * Every string the elements show. A language is one file that builds a `Translation` (so the compiler finds a
 * missing string) and passes it to `registerTranslation`.
 */
export interface Translation {
  /** BCP 47 primary tag, e.g. `en`, `sv`. */
  readonly lang: string;
  // provider / connection
  offline: string;
  connecting: string;
  reconnecting: string;
  ready: string;
  // dialer
  callType: string;
  modeUser: string;
  modePhone: string;
  modeSip: string;
  modeConference: string;
  userId: string;
  phoneNumber: string;
  sipAddress: string;
  conferenceId: string;
  video: string;
  call: string;
  join: string;
  keypad: string;
  testNumber: string;
  headers: string;
  headerName: string;
  headerValue: string;
  addHeader: string;
  removeHeader: (name: string) => string;
  notConnected: string;
  // incoming call
  incomingCall: string;
  incomingFrom: (name: string) => string;
  videoCall: string;
  audioCall: string;
  answer: string;
  answerAudioOnly: string;
  decline: string;
  enableSound: string;
  soundBlocked: string;
  // video view
  remoteVideo: (name: string) => string;
  localVideo: string;
  /** `<video-view>` label while the other side shares its screen. */
  remoteScreen: (name: string) => string;
  pictureInPicture: string;
  // controls
  callControls: string;
  mute: string;
  stopVideo: string;
  audioOutput: string;
  defaultOutput: string;
  microphone: string;
  camera: string;
  shareScreen: string;
  hangUp: string;
  dtmfKeypad: string;
  // status
  noCall: string;
  calling: (name: string) => string;
  ringing: (name: string) => string;
  incoming: (name: string) => string;
  connectingCall: string;
  connected: string;
  callDuration: string;
  remoteMuted: string;
  ended: Record<CallEndCause, string>;
  // widget (the launcher's ringing label is `incomingCall`)
  widgetTitle: string;
  openCalls: string;
  closeCalls: string;
  /** The widget's button to its recent calls. */
  recentCalls: string;
  /** The count of calls missed since the user last looked, e.g. `3 missed calls`. */
  missedCalls: (count: number) => string;
  /**
   * `<call-history>`'s strings. Optional: English and Swedish ship inside that element's lazy chunk (so the first
   * load does not carry them); another language adds them here.
   */
  history?: HistoryTranslation;
  // Hold and call waiting (#16)
  hold: string;
  resume: string;
  swap: string;
  callWaiting: string;
  holdAndAnswer: string;
  endAndAnswer: string;
  onHold: string;
  remoteOnHold: (name: string) => string;
  /**
   * Messages for `CallingError` codes, in this language. Codes missing here show the error's own (English)
   * message, so English needs none.
   */
  errors?: Partial<Record<string, string>>;
}

/** The strings of `<call-history>` (its direction and type labels reuse `incomingCall`, `videoCall`, `audioCall`, `mode*`). */
export interface HistoryTranslation {
  recentCalls: string;
  loading: string;
  empty: string;
  error: string;
  retry: string;
  loadMore: string;
  callBack: (name: string) => string;
  outgoingCall: string;
  missedCall: string;
}

const translations = new Map<string, Translation>();
const lazy = new Map<string, () => Promise<Translation>>();
const loading = new Map<string, Promise<void>>();
const controllers = new Set<LocalizeController>();

/** Adds (or replaces) a language; elements already on the page switch to it if it matches their language. */
export function registerTranslation(...list: Translation[]): void {
  for (const t of list) translations.set(t.lang.toLowerCase(), t);
  for (const c of controllers) c.host.requestUpdate();
}

/**
 * Adds a language whose strings are fetched the first time an element needs them (so they are not part of the first
 * load); until they arrive, the elements show English and then switch. `loadTranslation()` fetches it ahead.
 */
export function registerLazyTranslation(lang: string, load: () => Promise<Translation>): void {
  lazy.set(lang.toLowerCase(), load);
}

/**
 * Resolves once the language `lang` (a BCP 47 tag; its primary subtag counts too) is registered: at once for a
 * language that is already there or unknown, after its fetch for a lazy one. Rejects with the loader's error (e.g.
 * `chunk-load-failed`); the next use tries again.
 */
export function loadTranslation(lang: string): Promise<void> {
  const tag = lang.toLowerCase();
  const key = [tag, tag.split('-')[0]!].find((k) => lazy.has(k));
  if (!key || translations.has(tag) || translations.has(key)) return Promise.resolve();
  let pending = loading.get(key);
  if (!pending) {
    pending = lazy.get(key)!().then(
      (t) => { lazy.delete(key); registerTranslation(t); },
      (err: unknown) => { loading.delete(key); throw err; },
    );
    loading.set(key, pending);
  }
  return pending;
}

// One observer for the whole document: a `lang` (or `theme`) change anywhere re-renders the elements. Shadow
// roots that hold elements (e.g. a widget built of them) are observed as well: the document's subtree stops there.
let observer: MutationObserver | undefined;
const OPTIONS: MutationObserverInit = { attributes: true, subtree: true, attributeFilter: ['lang', 'theme'] };
function observe(root: Node): void {
  if (!observer) {
    observer = new MutationObserver(() => {
      for (const c of controllers) c.host.requestUpdate();
    });
    observer.observe(document.documentElement, OPTIONS);
  }
  if (root instanceof ShadowRoot) observer.observe(root, OPTIONS);
}

/**
 * Picks the language from the element's own `lang`, the nearest ancestor's `lang`, or the document's, and
 * falls back to English.
 */
export class LocalizeController implements ReactiveController {
  constructor(readonly host: ReactiveControllerHost & HTMLElement) {
    host.addController(this);
  }

  hostConnected(): void {
    controllers.add(this);
    observe(this.host.getRootNode());
  }

  hostDisconnected(): void {
    controllers.delete(this);
  }

  /** The language in effect (lower case), e.g. `sv` or `en-us`. */
  lang(): string {
    const el = this.host.closest<HTMLElement>('[lang]');
    return (el?.lang || document.documentElement.lang || 'en').toLowerCase();
  }

  /** The translation for the language in effect: exact tag, then primary subtag, then English. */
  get t(): Translation {
    const lang = this.lang();
    const t = translations.get(lang) ?? translations.get(lang.split('-')[0]!);
    if (t) return t;
    loadTranslation(lang).catch(() => undefined); // English until it arrives; a failed fetch is tried again later
    return translations.get('en') as Translation;
  }

  /** A `CallingError` in words of the language in effect (its own message when there is no translation). */
  error(error: CallingError): string {
    return this.t.errors?.[error.code] ?? error.message;
  }

  /** Formats a whole number of seconds as `mm:ss` (or `h:mm:ss`). */
  duration(seconds: number): string {
    const s = Math.max(0, Math.floor(seconds));
    const two = (n: number) => String(n).padStart(2, '0');
    const h = Math.floor(s / 3600);
    return h ? `${h}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}` : `${two(Math.floor(s / 60))}:${two(s % 60)}`;
  }
}
