import type { DataConnection, MediaConnection } from 'peerjs';
import { CallFork, type CallForkHost } from './call-fork.js';
import type { CallingError } from './errors.js';
import type { IceRecovery, IceRecoveryHost } from './ice-recovery.js';
import { loadRecoveryChunk } from './chunks.js';
import type { ControlMessage, ControlPayload, IceRestartPayload, InviteMessage } from './protocol.js';
import { closeMedia, connectFailure, ControlChannel, whenPeerConnection, type ConnectFailure } from './transport/control-channel.js';
import type { PeerTransport } from './transport/peer-transport.js';

/** What a call's connections report to the call's state machine. */
export interface CallLinkHost extends Omit<IceRecoveryHost, 'connections' | 'sendRestart'>, Pick<CallForkHost, 'remoteUserId' | 'connectTimeout' | 'end'> {
  readonly callId: string;
  readonly transport: PeerTransport;
  /** A control message from the other side (the device that answered, while several ring). */
  message(msg: ControlMessage): void;
  /** The control connection opened: the callee's device or service took the invite. */
  opened(): void;
  /** The control connection closed (`closed`: perhaps explained by a message still on its way) or failed. */
  broken(closed: boolean): void;
  /** The media connection closed or failed. */
  mediaClosed(): void;
  remoteStream(stream: MediaStream): void;
}

/**
 * A call's connections: its control channel (or, while several devices of the callee ring, the fork), its media
 * connection and their ICE recovery. `Call` decides what happens; this carries it out.
 */
export class CallLink {
  /** ICE recovery, from its lazy chunk (preloaded on idle, so normally there before the first call's media). */
  private ice: IceRecovery | null = null;
  /** What waits for the recovery chunk. */
  private iceQueue: Array<(ice: IceRecovery) => void> = [];
  private closed = false;
  private channel: ControlChannel | null = null;
  /** Messages sent before the control connection exists. */
  private outbox: ControlPayload[] = [];
  private fork: CallFork | null = null;
  private media: MediaConnection | null = null;
  private readonly cleanups: Array<() => void> = [];

  constructor(private readonly host: CallLinkHost, private remotePeerId: string) {
  }

  /** ICE restarts of the media connection so far (for stats). */
  get iceRestarts(): number { return this.ice?.restarts ?? 0; }

  /** The call is established: keep its connections through ICE restarts (see `IceRecovery`). */
  keepThroughRestarts(): void { this.withIce((ice) => ice.keepThroughRestarts()); }

  /** The signalling socket is back: a restart sent while it was down is sent again. */
  signallingBack(): void { this.ice?.signallingBack(); }

  /** Runs `fn` with the call's ICE recovery, once its chunk is there. */
  private withIce(fn: (ice: IceRecovery) => void): void {
    if (this.ice) return fn(this.ice);
    if (this.closed) return;
    if (this.iceQueue.push(fn) > 1) return;
    loadRecoveryChunk().then(({ IceRecovery }) => {
      if (this.closed) return;
      const host = this.host;
      // The host is a plain object of arrow functions: its members can be handed on as they are.
      const ice = (this.ice = new IceRecovery({
        ...host,
        connections: () => ({ media: this.media, data: this.channel?.data ?? null }),
        sendRestart: (connectionId, sdp) => {
          host.transport.sendIceRestart(this.remotePeerId, { callId: host.callId, connectionId, sdp: { type: sdp.type as 'offer' | 'answer', sdp: sdp.sdp ?? '' } });
        },
      }));
      for (const queued of this.iceQueue.splice(0)) queued(ice);
    }, (error: CallingError) => {
      // No recovery chunk (network): nothing would see the media path connect, so the call could never be
      // established; it fails now, saying why (`chunk-load-failed`), and the next call fetches the chunk again.
      this.iceQueue = [];
      this.host.end('failure', error, { type: 'hangup', reason: 'failure', error: error.toJSON() });
    });
  }

  /** The control connection is open (not while several devices ring). */
  get isOpen(): boolean { return !!this.channel?.isOpen; }
  /**
   * At the connect deadline: the devices that did not take the invite stop ringing. Undefined when some device took
   * it (or the control connection is open), else how the call fails (`connectFailure`: the network path or nobody).
   */
  connectDeadline(): ConnectFailure | undefined {
    const dropped = this.fork?.dropUnopened();
    if (this.isOpen || this.fork?.ringing) return undefined;
    return dropped ?? connectFailure(this.host.remoteUserId, [this.channel?.data, this.media]);
  }
  get peerConnection(): RTCPeerConnection | undefined { return this.media?.peerConnection as RTCPeerConnection | undefined; }

  /** Sends the invite and the media offer: to every peer id in `peers` when there are several, else to the one. */
  dial(peers: readonly string[], invite: InviteMessage, stream: MediaStream): void {
    const { transport } = this.host;
    if (peers.length > 1) {
      this.fork = new CallFork(this.forkHost(), transport, peers, invite, stream);
      return;
    }
    if (peers.length === 1) this.remotePeerId = peers[0]!;
    const { data, media } = transport.dial(this.remotePeerId, invite, stream);
    this.attachChannel(this.newChannel(data));
    this.attachMedia(media);
  }

  /** An incoming call's control connection. */
  accept(data: DataConnection): void {
    this.attachChannel(this.newChannel(data));
  }

  /** An incoming call's media offer; false when the call has one already. */
  acceptMedia(media: MediaConnection, stream: MediaStream | null): boolean {
    if (this.media) return false;
    this.attachMedia(media);
    if (stream) media.answer(stream);
    return true;
  }

  /** Answers the media offer, if it arrived (else `acceptMedia` answers it when it does). */
  answerMedia(stream: MediaStream): void {
    this.media?.answer(stream);
  }

  /** PeerServer could not reach `peerId` (or some peer): the device's leg, or the call, ends `unavailable`. */
  unavailable(peerId: string | undefined, error: CallingError): void {
    if (this.fork) this.fork.unavailable(peerId, error);
    else if (!this.isOpen && (peerId === undefined || peerId === this.remotePeerId)) this.host.end('unavailable', error);
  }

  /** An ICE restart's description from `src`, applied when it comes from the peer this call talks to. */
  iceRestart(src: string, p: IceRestartPayload): void {
    if (src === this.remotePeerId) this.withIce((ice) => ice.apply(p));
  }

  send(payload: ControlPayload): void {
    if (this.channel) this.channel.send(payload);
    else this.outbox.push(payload);
  }

  /** Tells the other side `notify` (before it sees the connections close), then closes everything. */
  close(notify: ControlPayload | undefined): void {
    this.closed = true;
    this.ice?.stop();
    this.iceQueue = [];
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.channel?.close(notify, this.host.connectTimeout);
    this.fork?.close(notify);
    closeMedia(this.media, !!notify);
  }

  private forkHost(): CallForkHost {
    return {
      remoteUserId: this.host.remoteUserId,
      connectTimeout: this.host.connectTimeout,
      progressing: this.host.opened,
      ringing: this.host.message,
      adopt: (leg, answer) => {
        // The device that answered becomes the call's connection.
        this.fork = null;
        this.remotePeerId = leg.peerId;
        leg.channel.rebind(this.channelHandlers());
        this.attachChannel(leg.channel);
        this.attachMedia(leg.media);
        this.host.message(answer);
      },
      end: this.host.end,
    };
  }

  private newChannel(data: DataConnection): ControlChannel {
    return new ControlChannel(data, this.host.callId, this.channelHandlers());
  }

  private channelHandlers(): ConstructorParameters<typeof ControlChannel>[2] {
    return {
      message: this.host.message,
      open: this.host.opened,
      close: () => this.host.broken(true),
      error: () => this.host.broken(false),
    };
  }

  private attachChannel(channel: ControlChannel): void {
    this.channel = channel;
    for (const payload of this.outbox.splice(0)) channel.send(payload);
    if (channel.isOpen) this.host.opened();
  }

  private attachMedia(media: MediaConnection): void {
    this.media = media;
    let gotStream = false;
    const onStream = (stream: MediaStream) => {
      if (gotStream) return; // PeerJS fires once per track
      gotStream = true;
      this.host.remoteStream(stream);
    };
    const onClose = () => this.host.mediaClosed();
    media.on('stream', onStream);
    media.on('close', onClose);
    media.on('error', onClose);
    // A device's leg adopted after its stream arrived (see CallFork).
    if (media.remoteStream) {
      queueMicrotask(() => {
        if (this.media === media) onStream(media.remoteStream);
      });
    }
    this.cleanups.push(() => {
      media.off('stream', onStream);
      media.off('close', onClose);
      media.off('error', onClose);
    });
    // The callee's PeerConnection exists only after answer(); PeerJS creates it synchronously there.
    this.cleanups.push(whenPeerConnection(media, (pc) => this.withIce((ice) => ice.watch(pc))));
  }
}
