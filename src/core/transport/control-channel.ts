/**
 * One call's control connection (a PeerJS DataConnection speaking `protocol.ts`), the same in the browser and in
 * Node. Facts it owns: messages sent before `open` are dropped by PeerJS (queued here); closing right after `send()`
 * can lose the message, since PeerJS closes the PeerConnection too (a final message gets `FLUSH_MS` to leave, and
 * one sent before `open` waits for it, for at most `giveUpMs`).
 */
import type { DataConnection, MediaConnection } from 'peerjs';
import { controlMessage, decodeControl, encodeControl, type ControlMessage, type ControlPayload } from '../protocol.js';

/** How long a final message is given to leave before its connection is closed. */
export const FLUSH_MS = 300;

export interface ControlChannelHandlers {
  /** A valid message for this call (others are dropped). */
  message(msg: ControlMessage): void;
  open?(): void;
  close?(): void;
  error?(): void;
}

export class ControlChannel {
  private outbox: ControlMessage[] = [];
  private _open = false;
  private handlers: ControlChannelHandlers | null;

  constructor(readonly data: DataConnection, readonly callId: string, handlers: ControlChannelHandlers) {
    this.handlers = handlers;
    const onOpen = () => {
      this._open = true;
      for (const m of this.outbox.splice(0)) data.send(encodeControl(data.serialization, m));
      this.handlers?.open?.();
    };
    data.on('open', onOpen);
    data.on('data', (raw: unknown) => {
      const msg = decodeControl(raw);
      if (msg && msg.callId === callId) this.handlers?.message(msg);
    });
    data.on('close', () => {
      this._open = false;
      this.handlers?.close?.();
    });
    data.on('error', () => this.handlers?.error?.());
    if (data.open) onOpen();
  }

  get isOpen(): boolean { return this._open; }

  /**
   * Hands the connection's events to other handlers (a forked call adopting the device that answered); `null` stops
   * delivering them (the connection stays as it is).
   */
  rebind(handlers: ControlChannelHandlers | null): void { this.handlers = handlers; }

  /** Sends now, or once the connection opens. */
  send(payload: ControlPayload): void {
    const m = controlMessage(this.callId, payload);
    if (this._open) this.data.send(encodeControl(this.data.serialization, m));
    else this.outbox.push(m);
  }

  /**
   * Detaches, sends `notify` (once open, if it is not yet) and closes the connection after it had time to leave;
   * `then` runs right after the close (e.g. to close the call's media with it).
   */
  close(notify: ControlPayload | undefined, giveUpMs: number, then?: () => void): void {
    this.handlers = null;
    const data = this.data;
    const done = () => {
      data.close();
      then?.();
    };
    if (!notify) {
      done();
      return;
    }
    const message = controlMessage(this.callId, notify);
    const sendAndClose = () => {
      data.send(encodeControl(data.serialization, message));
      setTimeout(done, FLUSH_MS);
    };
    if (this._open || data.open) {
      sendAndClose();
      return;
    }
    const giveUp = setTimeout(done, giveUpMs);
    data.once('open', () => {
      clearTimeout(giveUp);
      sendAndClose();
    });
  }
}

/** Why an outgoing call's connections did not open within the connect timeout, and how the call ends. */
export interface ConnectFailure {
  cause: 'failure' | 'timeout';
  error: { domain: 'network'; code: 'no-media-path' | 'connect-timeout'; message: string };
}

/**
 * Why an outgoing call's control connection did not open in time. When the other peer answered over signalling (its
 * SDP answer arrived on one of `connections`: it is there and took the call) the network path is what is blocked: the
 * call ends `failure` with `no-media-path`. When nothing came back it ends `timeout` with `connect-timeout`. The same
 * for browsers (`Call`) and the server's own peers (`NodePeer`). `who` names the other side in the message.
 */
export function connectFailure(who: string, connections: ReadonlyArray<{ peerConnection?: RTCPeerConnection | null } | null | undefined>): ConnectFailure {
  const answered = connections.some((c) => (c?.peerConnection as RTCPeerConnection | null | undefined)?.remoteDescription?.type === 'answer');
  return answered
    ? { cause: 'failure', error: { domain: 'network', code: 'no-media-path', message: `No network path to ${who} was found: a firewall may block it (a TURN server may be needed).` } }
    : { cause: 'timeout', error: { domain: 'network', code: 'connect-timeout', message: `${who} did not respond in time.` } };
}

/** Closes a media connection, after `FLUSH_MS` when a final control message is on its way (it must arrive first). */
export function closeMedia(media: MediaConnection | null | undefined, afterMessage: boolean): void {
  if (media) setTimeout(() => media.close(), afterMessage ? FLUSH_MS : 0);
}

/**
 * Calls `fn` with the media connection's RTCPeerConnection once it exists (the callee's is created only when it
 * answers; PeerJS gives no event for it). Returns a function that stops waiting.
 */
export function whenPeerConnection(media: MediaConnection, fn: (pc: RTCPeerConnection) => void): () => void {
  const now = media.peerConnection as RTCPeerConnection | undefined;
  if (now) {
    fn(now);
    return () => undefined;
  }
  const poll = setInterval(() => {
    const later = media.peerConnection as RTCPeerConnection | undefined;
    if (!later) return;
    clearInterval(poll);
    fn(later);
  }, 20);
  return () => clearInterval(poll);
}
