/**
 * Hands every authenticated signalling connection its TURN credentials (`ICE-SERVERS`, see `core/protocol.ts`): right
 * after PeerServer's `OPEN` (no extra round trip), and again before they expire while the connection stays open.
 */
import type { IClient } from 'peer';
import { ICE_SERVERS_MESSAGE } from '../../core/protocol.js';
import { userOfPeer } from '../../core/devices.js';
import { DEFAULT_TURN_TTL, mintTurnCredentials, type TurnSettings } from './credentials.js';

export class TurnHandout {
  private readonly timers = new Map<IClient, ReturnType<typeof setTimeout>>();

  constructor(private readonly settings: TurnSettings) {}

  /** Call for every PeerServer `connection` (the socket is authenticated by then). */
  onConnection(client: IClient): void {
    this.send(client);
  }

  onDisconnect(client: IClient): void {
    clearTimeout(this.timers.get(client));
    this.timers.delete(client);
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private send(client: IClient): void {
    clearTimeout(this.timers.get(client)); // a client that reconnected with its id comes through here again
    const socket = client.getSocket();
    if (!socket || socket.readyState !== socket.OPEN) {
      this.onDisconnect(client);
      return;
    }
    const minted = mintTurnCredentials(this.settings, userOfPeer(client.getId()));
    socket.send(JSON.stringify({ type: ICE_SERVERS_MESSAGE, payload: minted }));
    // Fresh ones when 80 % of the lifetime has passed: a call set up just before expiry still gets a working relay.
    const ttl = (this.settings.ttl ?? DEFAULT_TURN_TTL) * 1000;
    const timer = setTimeout(() => this.send(client), ttl * 0.8);
    timer.unref();
    this.timers.set(client, timer);
  }
}
