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
  /**
   * Messages for `CallingError` codes, in this language. Codes missing here show the error's own (English)
   * message, so English needs none.
   */
  errors?: Partial<Record<string, string>>;
}

const translations = new Map<string, Translation>();
const controllers = new Set<LocalizeController>();

/** Adds (or replaces) a language; elements already on the page switch to it if it matches their language. */
export function registerTranslation(...list: Translation[]): void {
  for (const t of list) translations.set(t.lang.toLowerCase(), t);
  for (const c of controllers) c.host.requestUpdate();
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
    return translations.get(lang) ?? translations.get(lang.split('-')[0]) ?? (translations.get('en') as Translation);
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
