import type { MediaConnection } from 'peerjs';
import { assertNever } from './assert-never.js';
import { CallingError, errorFromWire } from './errors.js';
import type { ControlMessage, ControlPayload, InviteMessage } from './protocol.js';
import { closeMedia, connectFailure, ControlChannel, type ConnectFailure } from './transport/control-channel.js';
import type { PeerTransport } from './transport/peer-transport.js';
import type { CallEndCause } from './types.js';

/** One device of the callee that a forked outgoing call rings, until a device answers. */
export interface Leg {
  readonly peerId: string;
  readonly channel: ControlChannel;
  readonly media: MediaConnection;
}

/** What ringing several devices needs from its call. */
export interface CallForkHost {
  readonly remoteUserId: string;
  readonly connectTimeout: number;
  /** A device took the invite. */
  progressing(): void;
  /** A device shows the call (its `ringing`). */
  ringing(msg: ControlMessage): void;
  /** A device answered: from now on it is the call's connection. `answer` is its message. */
  adopt(leg: Leg, answer: ControlMessage): void;
  /** Every device gave up, or one declined for all: the call ends. */
  end(cause: CallEndCause, error?: CallingError, notify?: ControlPayload): void;
}

/**
 * An outgoing call to a user with several devices online: one invite and one media offer per device, all with the
 * call's id. The first device to answer wins and the others are told `otherDeviceAnswered`; a device that stops
 * ringing without answering (declined, failed, unreachable) leaves the others ringing, and when the last one gives up
 * the call ends — `denied` if any device declined.
 */
export class CallFork {
  private legs: Leg[] = [];
  /** Why the devices rung so far gave up (a decline on any device wins), for when the last one does. */
  private legEnd: { cause: CallEndCause; error?: CallingError } | undefined;

  constructor(private readonly host: CallForkHost, transport: PeerTransport, peers: readonly string[], invite: InviteMessage, stream: MediaStream) {
    for (const peerId of peers) {
      const { data, media } = transport.dial(peerId, invite, stream);
      let leg: Leg | undefined;
      const gone = () => {
        if (leg) this.drop(leg, 'failure', new CallingError('network', 'connection-lost', `The connection to ${host.remoteUserId} was lost.`));
      };
      const channel = new ControlChannel(data, invite.callId, {
        open: () => host.progressing(),
        message: (msg) => { if (leg) this.onMessage(leg, msg); },
        close: gone,
        error: gone,
      });
      leg = { peerId, channel, media };
      this.legs.push(leg);
    }
  }

  /** Devices still ringing (none once one answered). */
  get ringing(): number { return this.legs.length; }

  /**
   * At the connect deadline: every device that did not take the invite stops ringing (each for its own reason, see
   * `connectFailure`). Returns the reason of the last one dropped (`no-media-path` wins: a device was there).
   */
  dropUnopened(): ConnectFailure | undefined {
    let worst: ConnectFailure | undefined;
    for (const leg of this.legs.filter((l) => !l.channel.isOpen)) {
      const f = connectFailure(this.host.remoteUserId, [leg.channel.data, leg.media]);
      if (!worst || f.cause === 'failure') worst = f;
      this.drop(leg, f.cause, new CallingError(f.error.domain, f.error.code, f.error.message));
    }
    return worst;
  }

  /** PeerServer could not reach `peerId` (any device not open yet, when it did not say which). */
  unavailable(peerId: string | undefined, error: CallingError): void {
    for (const leg of this.legs.filter((l) => !l.channel.isOpen && (peerId === undefined || l.peerId === peerId))) {
      this.drop(leg, 'unavailable', error);
    }
  }

  /** The call ended: every device still ringing is told `notify` and closed. */
  close(notify?: ControlPayload): void {
    for (const leg of this.legs.splice(0)) this.closeLeg(leg, notify);
  }

  private onMessage(leg: Leg, msg: ControlMessage): void {
    if (!this.legs.includes(leg)) return;
    switch (msg.type) {
      case 'ringing':
        this.host.ringing(msg);
        break;
      case 'answer':
        for (const other of this.legs) if (other !== leg) this.closeLeg(other, { type: 'cancel', reason: 'otherDeviceAnswered' });
        this.legs = [];
        this.host.adopt(leg, msg);
        break;
      case 'deny':
        if (msg.allDevices) {
          this.legs.splice(this.legs.indexOf(leg), 1);
          this.closeLeg(leg);
          this.host.end('denied', undefined, { type: 'cancel', reason: 'denied' });
        } else {
          this.drop(leg, 'denied');
        }
        break;
      case 'hangup':
        this.drop(leg, msg.reason, msg.error ? errorFromWire(msg.error) : undefined);
        break;
      case 'invite':
      case 'progress':
      case 'cancel':
      case 'media':
      case 'dtmf':
      case 'participants':
      case 'hold':
      case 'screenshare':
        break;
      default:
        assertNever(msg);
    }
  }

  private drop(leg: Leg, cause: CallEndCause, error?: CallingError): void {
    const i = this.legs.indexOf(leg);
    if (i < 0) return;
    this.legs.splice(i, 1);
    this.closeLeg(leg);
    if (!this.legEnd || cause === 'denied') this.legEnd = { cause, ...(error ? { error } : {}) };
    if (this.legs.length === 0) this.host.end(this.legEnd.cause, this.legEnd.error);
  }

  private closeLeg(leg: Leg, notify?: ControlPayload): void {
    leg.channel.close(notify, this.host.connectTimeout);
    closeMedia(leg.media, !!notify);
  }
}
