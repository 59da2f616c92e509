/**
 * `DeviceFork` — a service rings every online device of a user (peer ids `"<userId>"` and `"<userId> <tag>"`, from
 * `NodePeer.devicesOf`), as app-to-app callers do: the first device to answer wins, the others are canceled with
 * `otherDeviceAnswered`; a decline on one device leaves the others ringing (unless it declined on every device,
 * `allDevices`: then the others are canceled with `denied`); once none is left ringing the fork ends — `denied` if a
 * device declined. Used by the gateway (incoming SIP calls) and the conference service (REST callouts).
 *
 * It behaves like the `PeerSession` of the device that answered: the same events (`ringing` for each device that
 * shows the call, then `answer`, `media`, `mute`, `dtmf`, `hold` and `end` of the winner), `onAudio`, `sendAudio`, `send`
 * and `hangup` (before an answer: every device). With one device (or no device list) it is a single session under
 * the fork's own call id; with several, each device's session has the call id `<callId>-<device tag>`.
 *
 * ```ts
 * const fork = await DeviceFork.ring(peer, 'bob', { from, to: 'bob', callType: 'sip', video: false, headers: {} });
 * fork?.on('answer', () => fork.sendAudio(frame, 8000));
 * fork?.once('end', ({ cause, by }) => …);
 * ```
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { ControlPayload, InviteMessage, WireError } from '../../core/protocol.js';
import type { CallEndCause } from '../../core/types.js';
import type { CallOptions, NodePeer, PeerSession, SessionEnd, SessionEvents } from './node-peer.js';
import type { PcmFrame } from './wrtc.js';

/** The invite every device gets; `callId` defaults to a fresh UUID. */
export type ForkInvite = Omit<InviteMessage, 'v' | 'type' | 'callId'> & { callId?: string };

export interface DeviceForkRingOptions {
  /** Checked after the device lookup: false (e.g. the caller gave up meanwhile) rings nobody (`ring` → undefined). */
  proceed?: () => boolean;
  /** How long the device lookup may take (ms). Default: `devicesOf`'s. */
  lookupTimeoutMs?: number;
  /** Per-call options for every device's session (see `NodePeer.call`). */
  call?: CallOptions;
}

/** At most this many devices are rung (`devicesOf` caps the list too). */
const MAX_DEVICES = 32;

export class DeviceFork extends EventEmitter<SessionEvents> {
  /** The fork's call id (the single session's, or the prefix of every device's). */
  readonly callId: string;
  readonly userId: string;
  readonly direction = 'outgoing' as const;
  /** One session per device rung. */
  readonly sessions: readonly PeerSession[];
  private _winner: PeerSession | undefined;
  private _ended: SessionEnd | undefined;
  private denied = false;
  private audioListeners: Array<(frame: PcmFrame) => void> = [];

  /** Looks up the user's devices, then rings them all (see `proceed`). */
  static async ring(peer: NodePeer, userId: string, invite: ForkInvite, options: DeviceForkRingOptions = {}): Promise<DeviceFork | undefined> {
    const devices = await peer.devicesOf(userId, options.lookupTimeoutMs);
    if (options.proceed && !options.proceed()) return undefined;
    return new DeviceFork(peer, userId, devices, invite, options.call);
  }

  /**
   * Rings `devices` now (the result of `peer.devicesOf(userId)`). No list (an older server) or an empty one: the plain
   * user id, which the server routes to the user's most recent device, or which ends `unavailable`.
   */
  constructor(peer: NodePeer, userId: string, devices: readonly string[] | undefined, invite: ForkInvite, callOptions?: CallOptions) {
    super();
    this.userId = userId;
    this.callId = invite.callId ?? randomUUID();
    const targets = devices?.length ? [...new Set(devices)].slice(0, MAX_DEVICES) : [userId];
    const used = new Set<string>();
    this.sessions = targets.map((peerId) => {
      let callId = this.callId;
      if (targets.length > 1) {
        callId = `${this.callId}-${deviceSuffix(peerId)}`;
        for (let n = 2; used.has(callId); n++) callId = `${this.callId}-${deviceSuffix(peerId)}${n}`;
      }
      used.add(callId);
      return peer.call(peerId, { ...invite, callId }, callOptions);
    });
    for (const s of this.sessions) this.watch(s);
  }

  /** The device that answered, once one did. */
  get winner(): PeerSession | undefined { return this._winner; }
  get ended(): SessionEnd | undefined { return this._ended; }
  get isMediaUp(): boolean { return this._winner?.isMediaUp ?? false; }
  /** The answering device's peer id; the user id before an answer. */
  get remotePeerId(): string { return this._winner?.remotePeerId ?? this.userId; }

  /** Before an answer: every device stops ringing (the browsers see `canceled`); after: the winner's `hangup`. */
  hangup(reason: CallEndCause = 'hungUp', error?: WireError): void {
    if (this._ended) return;
    if (this._winner) {
      this._winner.hangup(reason, error);
      return;
    }
    for (const s of this.sessions) s.hangup(reason, error);
  }

  /** The winner's audio (nothing before an answer). */
  onAudio(listener: (frame: PcmFrame) => void): () => void {
    this.audioListeners.push(listener);
    return () => { this.audioListeners = this.audioListeners.filter((l) => l !== listener); };
  }

  /** To the winner (dropped before an answer). */
  sendAudio(samples: Int16Array, sampleRate: number): void {
    this._winner?.sendAudio(samples, sampleRate);
  }

  /** A control message to the winner (dropped before an answer). */
  send(payload: ControlPayload): void {
    this._winner?.send(payload);
  }

  private watch(s: PeerSession): void {
    s.on('ringing', () => {
      if (!this._winner && !this._ended) this.emit('ringing');
    });
    s.on('answer', () => {
      if (this._winner || this._ended) return;
      this._winner = s;
      for (const other of this.sessions) if (other !== s) other.hangup('otherDeviceAnswered');
      this.emit('answer');
      // Media may have come up before the answer message.
      if (s.isMediaUp && !this._ended) this.emit('media');
    });
    s.on('media', () => {
      if (s === this._winner && !this._ended) this.emit('media');
    });
    s.on('mute', (muted) => {
      if (s === this._winner) this.emit('mute', muted);
    });
    s.on('dtmf', (digits) => {
      if (s === this._winner) this.emit('dtmf', digits);
    });
    s.on('hold', (onHold) => {
      if (s === this._winner) this.emit('hold', onHold);
    });
    s.onAudio((frame) => {
      if (s !== this._winner) return;
      for (const l of this.audioListeners) l(frame);
    });
    s.once('end', (e) => {
      if (e.cause === 'denied') this.denied = true;
      if (this._ended) return;
      if (this._winner) {
        if (s === this._winner) this.finish(e);
        return;
      }
      if (e.cause === 'denied' && e.allDevices) {
        // Declined on every device: the others stop ringing with `denied`.
        this.finish(e);
        for (const other of this.sessions) if (other !== s) other.hangup('denied');
        return;
      }
      // A device that stops ringing (declined, went away): the others go on ringing.
      if (!this.sessions.every((x) => x.ended)) return;
      this.finish(e.by === 'remote' && this.denied && e.cause !== 'denied' ? { cause: 'denied', by: 'remote' } : e);
    });
  }

  private finish(end: SessionEnd): void {
    if (this._ended) return;
    this._ended = end;
    this.audioListeners = [];
    this.emit('end', end);
  }
}

/** A short, id-safe suffix per device for the call ids of a forked call. */
export function deviceSuffix(peerId: string): string {
  const space = peerId.indexOf(' ');
  return space < 0 ? 'main' : peerId.slice(space + 1).replace(/[^A-Za-z0-9]/g, '').slice(0, 32) || 'device';
}
