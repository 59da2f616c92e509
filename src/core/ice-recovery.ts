import type { DataConnection, MediaConnection } from 'peerjs';
import type { IceRestartPayload } from './protocol.js';

// ICE `disconnected` often heals by itself within a second or two; after this the caller restarts ICE, and again
// with the delay doubling up to RESTART_MAX_MS until the media path is back or `disconnectGrace` ends the call.
const RESTART_GRACE_MS = 1500;
const RESTART_MAX_MS = 8000;

/** What ICE recovery needs from its call. */
export interface IceRecoveryHost {
  /** Only the caller restarts ICE, so that offers never cross. */
  readonly restarts: boolean;
  readonly disconnectGrace: number;
  /** The call's connections now. */
  connections(): { media: MediaConnection | null; data: DataConnection | null };
  /** Whether the call was established (a path that breaks before that is a failure, not an interruption). */
  wasEstablished(): boolean;
  /** ICE connected, or came back. */
  connected(): void;
  /** An established path broke; recovery is under way. */
  interrupted(): void;
  /** The path is gone for good: `ice-failed` (before establishing) or `ice-disconnected` (grace over). */
  failed(code: 'ice-failed' | 'ice-disconnected'): void;
  /** Sends an ICE restart description for connection `connectionId` over the signalling server. */
  sendRestart(connectionId: string, sdp: RTCSessionDescriptionInit): void;
}

/**
 * A call's ICE watch and recovery: ICE recovers by itself when packets flow again soon (consent freshness); a path
 * that is really gone needs an ICE restart on both of the call's connections (the data connection too, so hang-ups
 * get through again), retried with backoff. Either way the call fails when media is not back within
 * `disconnectGrace`.
 */
export class IceRecovery {
  /** ICE restarts of the media connection so far (for stats). */
  restarts = 0;
  private disconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private readonly cleanups: Array<() => void> = [];

  constructor(private readonly host: IceRecoveryHost) {}

  /** Follows `pc`'s ICE state for the rest of the call. */
  watch(pc: RTCPeerConnection): void {
    const onIce = () => this.onIceState(pc.iceConnectionState);
    pc.addEventListener('iceconnectionstatechange', onIce);
    this.cleanups.push(() => pc.removeEventListener('iceconnectionstatechange', onIce));
    onIce();
  }

  /**
   * The call is established: PeerJS closes a connection whose ICE `failed` and stops sending ICE candidates once ICE
   * `completed`; the call keeps both for ICE restarts (this watch ends it when the path does not come back).
   */
  keepThroughRestarts(): void {
    const { media, data } = this.host.connections();
    for (const conn of [media, data]) {
      const pc = conn?.peerConnection as RTCPeerConnection | undefined;
      const peerjs = pc?.oniceconnectionstatechange;
      if (!pc || !peerjs) continue;
      pc.oniceconnectionstatechange = (e) => {
        if (pc.iceConnectionState !== 'failed' && pc.iceConnectionState !== 'completed') peerjs.call(pc, e);
      };
    }
  }

  /** The signalling socket is back: a restart sent while it was down got lost, so restart now. */
  signallingBack(): void {
    if (this.attempt > 0) this.schedule(0);
  }

  /**
   * Applies an ICE restart's description for one of the call's connections: an offer (callee) is answered, an answer
   * (caller) completes the restart. False when it belongs to no connection of the call or comes the wrong way.
   */
  apply(p: IceRestartPayload): boolean {
    const { media, data } = this.host.connections();
    const conn = [media, data].find((c) => c?.connectionId === p.connectionId);
    const pc = conn?.peerConnection as RTCPeerConnection | undefined;
    const offer = p.sdp.type === 'offer';
    if (!conn || !pc || offer === this.host.restarts) return false;
    // Applied at once, so that the candidates PeerJS relays right after the description find it in place.
    const applied = pc.setRemoteDescription(p.sdp);
    if (!offer) {
      applied.catch(() => undefined);
      return true;
    }
    if (conn === media) this.restarts++;
    applied.then(() => pc.createAnswer()).then((answer) => {
      this.host.sendRestart(conn.connectionId, answer);
      return pc.setLocalDescription(answer);
    }).catch(() => undefined);
    return true;
  }

  stop(): void {
    clearTimeout(this.disconnectTimer);
    clearTimeout(this.restartTimer);
    for (const c of this.cleanups.splice(0)) c();
  }

  private onIceState(s: RTCIceConnectionState): void {
    const wasEstablished = this.host.wasEstablished();
    if (s === 'connected' || s === 'completed') {
      clearTimeout(this.disconnectTimer);
      this.disconnectTimer = undefined;
      if (this.restartTimer && healthy(this.host.connections().data)) {
        clearTimeout(this.restartTimer);
        this.restartTimer = undefined;
        this.attempt = 0;
      }
      this.host.connected();
    } else if (s === 'failed' && !wasEstablished) {
      this.host.failed('ice-failed');
    } else if (s === 'disconnected' || s === 'failed') {
      this.host.interrupted();
      this.disconnectTimer ??= setTimeout(() => this.host.failed('ice-disconnected'), this.host.disconnectGrace);
      if (wasEstablished) this.schedule(s === 'failed' && this.attempt === 0 ? 0 : RESTART_GRACE_MS);
    }
  }

  private schedule(delay: number): void {
    if (!this.host.restarts) return;
    if (this.restartTimer) {
      if (delay > 0) return;
      clearTimeout(this.restartTimer);
    }
    this.restartTimer = setTimeout(() => this.restart(), delay);
  }

  private restart(): void {
    this.restartTimer = undefined;
    const { media, data } = this.host.connections();
    if (healthy(media) && healthy(data)) {
      this.attempt = 0;
      return;
    }
    this.restarts++;
    for (const conn of [media, data]) {
      const pc = conn?.peerConnection as RTCPeerConnection | undefined;
      if (!conn || !pc || pc.signalingState === 'closed') continue;
      // Sent before it is applied: the offer then leaves before any of the candidates it starts gathering.
      pc.createOffer({ iceRestart: true }).then((offer) => {
        this.host.sendRestart(conn.connectionId, offer);
        return pc.setLocalDescription(offer);
      }).catch(() => undefined);
    }
    this.schedule(Math.min(RESTART_MAX_MS, RESTART_GRACE_MS * 2 ** ++this.attempt));
  }
}

/** Whether a connection's ICE is connected (no connection counts as healthy: there is nothing to restart). */
function healthy(conn: { peerConnection: unknown } | null): boolean {
  const state = (conn?.peerConnection as RTCPeerConnection | undefined)?.iceConnectionState;
  return state === undefined || state === 'connected' || state === 'completed';
}
