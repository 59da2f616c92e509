/**
 * Typed access to `@roamhq/wrtc` (WebRTC for Node) and the global installation PeerJS needs: PeerJS probes
 * `RTCPeerConnection` when it loads, so the globals must exist before `peerjs` is imported (dynamically).
 */
import { createRequire } from 'node:module';
import WebSocket from 'ws';
import { restrictAudioCodecs } from './sdp-codecs.js';

/** A 10 ms PCM frame as `RTCAudioSink` delivers it and `RTCAudioSource` takes it. */
export interface PcmFrame {
  samples: Int16Array;
  sampleRate: number;
  bitsPerSample?: number;
  channelCount?: number;
  numberOfFrames?: number;
}

export interface WrtcAudioSink {
  ondata: ((frame: PcmFrame) => void) | null;
  stop(): void;
  readonly stopped: boolean;
}
export interface WrtcAudioSource {
  createTrack(): MediaStreamTrack;
  onData(frame: PcmFrame): void;
}

interface WrtcModule {
  RTCPeerConnection: typeof RTCPeerConnection;
  RTCSessionDescription: typeof RTCSessionDescription;
  RTCIceCandidate: typeof RTCIceCandidate;
  MediaStream: typeof MediaStream;
  MediaStreamTrack: typeof MediaStreamTrack;
  nonstandard: {
    RTCAudioSink: new (track: MediaStreamTrack) => WrtcAudioSink;
    RTCAudioSource: new () => WrtcAudioSource;
  };
}

const require = createRequire(import.meta.url);
let wrtc: WrtcModule | undefined;

/** Loads the native module once. */
export function loadWrtc(): WrtcModule {
  wrtc ??= require('@roamhq/wrtc') as WrtcModule;
  return wrtc;
}

/**
 * Optional ICE candidate filter: candidates whose address it rejects are neither announced nor used. Useful to
 * keep tests on 127.0.0.1 and to hide internal interfaces in production.
 */
let candidateFilter: ((address: string) => boolean) | undefined;
export function setCandidateFilter(filter: ((address: string) => boolean) | undefined): void {
  candidateFilter = filter;
}

/** The address of an `a=candidate` line or `RTCIceCandidate.candidate` string (5th field). */
export function candidateAddress(candidate: string): string | undefined {
  return candidate.replace(/^a=/, '').split(' ')[4];
}

/**
 * Per-peer audio codec restriction, keyed by the `RTCConfiguration` object a NodePeer hands PeerJS (PeerJS passes
 * that same object to every `RTCPeerConnection` it creates for the peer). A remote offer is reduced to these codecs
 * before `setRemoteDescription`: the answerer's send codec follows the offer's order, so munging only our answer
 * would still leave us sending Opus.
 */
const codecsByConfig = new WeakMap<object, readonly string[]>();
export function restrictCodecsFor(config: object, codecs: readonly string[]): void {
  if (codecs.length) codecsByConfig.set(config, codecs);
}

let installed = false;
/** Installs the WebRTC globals (and `WebSocket` from `ws`) that PeerJS expects. Idempotent. */
export function installWrtcGlobals(): void {
  if (installed) return;
  installed = true;
  const w = loadWrtc();
  const Native = w.RTCPeerConnection;
  // A subclass that drops filtered local candidates before PeerJS sees (and announces) them, and keeps PeerJS
  // from crashing the process on events and operations that outlive close().
  class FilteredPeerConnection extends Native {
    private closedByUs = false;
    /** @internal audio codecs remote offers are reduced to (see restrictCodecsFor) */
    readonly _audioCodecs: readonly string[] | undefined;

    constructor(config?: RTCConfiguration) {
      super(config);
      this._audioCodecs = config ? codecsByConfig.get(config) : undefined;
    }

    override close(): void {
      this.closedByUs = true;
      super.close();
    }

    override dispatchEvent(event: Event): boolean {
      if (this.closedByUs) return true;
      if (event.type === 'icecandidate' && candidateFilter) {
        const c = (event as RTCPeerConnectionIceEvent).candidate;
        const addr = c?.candidate ? candidateAddress(c.candidate) : undefined;
        if (addr && !candidateFilter(addr)) return true;
      }
      return super.dispatchEvent(event);
    }

    /** @internal true once close() was called */
    get _closed(): boolean { return this.closedByUs; }

    // PeerJS keeps negotiating (candidates, answers) for connections it already closed and then reports the
    // resulting error through `connection.provider`, which is null by then: an unhandled rejection that ends a
    // Node process. After close() these operations settle never (the async chain simply stops), and an operation
    // that fails because close() happened meanwhile does the same.
    /** @internal */
    _guarded<T>(op: () => Promise<T>): Promise<T> {
      if (this.closedByUs) return new Promise<T>(() => undefined);
      return op().catch((e: unknown) => {
        if (this.closedByUs) return new Promise<T>(() => undefined);
        throw e;
      });
    }
  }
  for (const name of ['addIceCandidate', 'setRemoteDescription', 'setLocalDescription', 'createAnswer', 'createOffer']) {
    const proto = Native.prototype as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const original = proto[name];
    Object.defineProperty(FilteredPeerConnection.prototype, name, {
      configurable: true,
      writable: true,
      value(this: FilteredPeerConnection, ...args: unknown[]) {
        const codecs = this._audioCodecs;
        const desc = args[0] as RTCSessionDescriptionInit | undefined;
        if (name === 'setRemoteDescription' && codecs && desc?.type === 'offer' && desc.sdp) {
          args = [{ type: desc.type, sdp: restrictAudioCodecs(desc.sdp, codecs) }, ...args.slice(1)];
        }
        return this._guarded(() => original.apply(this, args));
      },
    });
  }
  // wrtc delivers events on a later tick: an event queued before close() would reach PeerJS after it forgot the
  // connection ('datachannel' → "Cannot read properties of null (reading '_initializeDataChannel')", an uncaught
  // exception that would kill the process). The handlers PeerJS assigns are wrapped to drop such late events.
  for (const name of ['ondatachannel', 'ontrack', 'onicecandidate', 'oniceconnectionstatechange', 'onconnectionstatechange']) {
    const slot = Symbol(name);
    Object.defineProperty(FilteredPeerConnection.prototype, name, {
      configurable: true,
      get(this: Record<symbol, unknown>) { return this[slot] ?? null; },
      set(this: Record<symbol, unknown> & { _closed: boolean }, fn: unknown) {
        this[slot] = typeof fn === 'function'
          ? (e: Event) => { if (!this._closed) (fn as (e: Event) => void).call(this, e); }
          : null;
      },
    });
  }
  const g = globalThis as Record<string, unknown>;
  g.RTCPeerConnection = FilteredPeerConnection;
  g.RTCSessionDescription = w.RTCSessionDescription;
  g.RTCIceCandidate = w.RTCIceCandidate;
  g.MediaStream = w.MediaStream;
  g.MediaStreamTrack = w.MediaStreamTrack;
  g.WebSocket ??= WebSocket;
}
