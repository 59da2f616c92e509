import { ContextConsumer } from '@lit/context';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { Call, CallClient, ConnectionState } from '../core/index.js';
import { callingContext, type CallingState, type CallSnapshot } from './calling-context.js';

/** The subset of the core's audio controller the elements use; feature-checked because it may be absent. */
export interface AudioControllerLike extends EventTarget {
  readonly locked: boolean;
  unlock(): unknown;
  playDtmf?(digit: string): unknown;
}

/** The client's audio controller when the core provides one (`'audioController' in client`). */
export function audioControllerOf(client: CallClient | null | undefined): AudioControllerLike | null {
  if (!client || !('audioController' in client)) return null;
  const ac: unknown = (client as { audioController?: unknown }).audioController;
  if (ac instanceof EventTarget && 'locked' in ac && 'unlock' in ac) return ac as AudioControllerLike;
  return null;
}

/**
 * Subscribes an element to the nearest `<call-provider>`: re-renders the host whenever the connection or the
 * current call changes, and offers the call's state with convenient getters.
 */
export class CallController implements ReactiveController {
  private readonly consumer: ContextConsumer<typeof callingContext, ReactiveControllerHost & HTMLElement>;
  private audio: AudioControllerLike | null = null;
  private readonly onAudio = () => this.host.requestUpdate();

  constructor(private readonly host: ReactiveControllerHost & HTMLElement) {
    // `subscribe: true` makes the consumer call host.requestUpdate() on every new state object.
    this.consumer = new ContextConsumer(host, { context: callingContext, subscribe: true });
    host.addController(this);
  }

  hostConnected(): void {}

  hostUpdate(): void {
    this.watchAudio(audioControllerOf(this.client));
  }

  hostDisconnected(): void {
    this.watchAudio(null);
  }

  /** The client's audio controller, when the core has one. */
  get audioController(): AudioControllerLike | null { return audioControllerOf(this.client); }

  /** True while the browser blocks sound (the SDK's tones, or the remote party's audio) until a user gesture. */
  get soundBlocked(): boolean {
    return this.audioController?.locked === true || this.consumer.value?.audioBlocked === true;
  }

  /** Lets sound play; call it from a click or key handler (a user gesture). */
  async unlockSound(): Promise<void> {
    await this.consumer.value?.unlockAudio();
  }

  // Re-render when the audio controller's lock changes (it is not part of the provider's state).
  private watchAudio(ac: AudioControllerLike | null): void {
    if (ac === this.audio) return;
    for (const type of ['autoplayblocked', 'autoplayunlocked']) {
      this.audio?.removeEventListener(type, this.onAudio);
      ac?.addEventListener(type, this.onAudio);
    }
    this.audio = ac;
  }

  /** The provider's whole state, or undefined outside a provider. */
  get state(): CallingState | undefined { return this.consumer.value; }
  get client(): CallClient | null { return this.consumer.value?.client ?? null; }
  get connectionState(): ConnectionState { return this.consumer.value?.connectionState ?? 'disconnected'; }
  get isConnected(): boolean { return this.connectionState === 'connected'; }
  /** The current call's snapshot (also after it ended). */
  get snapshot(): CallSnapshot | null { return this.consumer.value?.call ?? null; }
  /** The current call while it has not ended. */
  get activeCall(): Call | null {
    const s = this.snapshot;
    return s && s.state !== 'ended' ? s.call : null;
  }
}
