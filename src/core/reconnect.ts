// Re-registering after the signalling socket dropped (server restart, network blip): calls keep their media (it is
// peer to peer) and the client re-registers by itself, with exponential backoff and jitter and a fresh token each
// time. PeerJS's own `reconnect()` can hang on a socket that never opens, so every attempt has a deadline.
import type { Peer } from 'peerjs';

const RECONNECT_BASE_MS = 250;
const RECONNECT_MAX_MS = 10_000;
/** How long one attempt (and the first registration) may take before it counts as failed. */
const REGISTER_DEADLINE_MS = 5_000;

/** What reconnecting needs from the client. */
export interface ReconnectHost {
  /** The client's peer now (a different one means this attempt is stale). */
  current(): Peer | null;
  /** A fresh token for the next attempt, handed to the socket. */
  freshToken(): Promise<void>;
  /** The client is reconnecting now. */
  reconnecting(): void;
}

export class Reconnector {
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly host: ReconnectHost) {}

  /** `peer` lost its socket: try again after the backoff. */
  schedule(peer: Peer): void {
    clearTimeout(this.timer);
    this.host.reconnecting();
    const base = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** this.attempt++);
    this.timer = setTimeout(() => void this.run(peer), base * (0.7 + Math.random() * 0.6));
  }

  /** Registered again (or stopped): the next loss starts from the shortest backoff. */
  reset(): void {
    clearTimeout(this.timer);
    this.attempt = 0;
  }

  private async run(peer: Peer): Promise<void> {
    if (this.host.current() !== peer || peer.destroyed || peer.open) return;
    try {
      await this.host.freshToken();
    } catch {
      this.schedule(peer);
      return;
    }
    if (this.host.current() !== peer || !peer.disconnected) return;
    this.timer = setTimeout(() => {
      // Still not registered: drop this attempt; its 'disconnected' event schedules the next one.
      if (this.host.current() === peer && !peer.open) {
        if (peer.disconnected) this.schedule(peer);
        else peer.disconnect();
      }
    }, REGISTER_DEADLINE_MS);
    peer.reconnect();
  }
}
