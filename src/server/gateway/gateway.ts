/**
 * The calling gateway: browsers call the reserved peer `calling-gateway` with `callType: 'phone' | 'sip'`; the
 * gateway places a real SIP call over UDP and bridges the audio (WebRTC Opus 48 kHz ↔ G.711 8 kHz RTP).
 *
 * Signalling map (SIP → browser): 100 → (progressing, already shown when the control channel opens),
 * 180/183 → `ringing` (183 with SDP: early media is bridged, the browser hears it), 200 + ACK → `answer`,
 * BYE → `hangup`, failures → `hangup` with `error.domain === 'sip'` and the status/reason, a re-INVITE that holds
 * (`sendonly`/`inactive`) or resumes → `hold`. Browser → SIP: cancel → CANCEL, hangup → BYE, dtmf → RFC 4733
 * telephone-events, hold → re-INVITE `a=sendonly` / `a=sendrecv` (no RTP is sent while either side holds).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { GATEWAY_PEER_ID, type InviteMessage, type WireError } from '../../core/protocol.js';
import type { CallEndCause } from '../../core/types.js';
import { assertSipAddress, cleanDisplayName, MAX_HEADERS_BYTES, validateHeaders } from '../../core/validation.js';
import { DeviceFork, NodePeer, type PeerSession } from '../node-peer/index.js';
import { Downsampler } from './media/dsp.js';
import { sharedPacer, type Pacer } from './media/pacer.js';
import { RtpSession, type RtpStats } from './media/rtp.js';
import { buildSdp, parseSdp, type G711 } from './media/sdp.js';
import type { Header } from './sip/message.js';
import { SipStack, randomToken, type Endpoint } from './sip/stack.js';
import { SipUA, type Credentials, type OutgoingSipCall, type SipCallEnd } from './sip/ua.js';
import { IncomingSipCall } from './sip/uas.js';
import { SipLocator } from './sip/locate.js';
import { getHeader, type SipRequest } from './sip/message.js';
import type { ServerTx } from './sip/stack.js';
import { assertUserId } from '../../core/validation.js';
import { TestNumber, TEST_NUMBER } from './test-number.js';
import { InboundGuard, trustedSourceList } from './inbound-guard.js';
import { assertDialablePhoneNumber, type PhoneNumberType } from '../phone-numbers.js';
import { CallingError } from '../../core/errors.js';
import { HelperThreadBatcher, realtimeThreadCount } from '../node-peer/threads.js';

/** What the gateway asks before dialing ("may this user place this call?"): the credits/fraud hook. */
export interface CallAuthorizationRequest {
  userId: string;
  callType: 'phone' | 'sip';
  /** E.164 number or SIP identity. */
  to: string;
  /** True for the free test number. */
  isTestNumber: boolean;
}
export type CallAuthorization = { allowed: true } | { allowed: false; code: string; message: string };

/** One record per phone or SIP call, emitted when it ends (charging happens in the hook's owner). */
export interface CallDetailRecord {
  callId: string;
  userId: string;
  callType: 'phone' | 'sip';
  to: string;
  sipCallId?: string;
  startedAt: number;
  answeredAt?: number;
  endedAt: number;
  /** Whole seconds answered. */
  durationSeconds: number;
  endCause: CallEndCause;
  endedBy: 'caller' | 'callee' | 'gateway';
  sipStatus?: number;
  sipReason?: string;
  isTestNumber: boolean;
}

export interface GatewayOptions {
  /** The calling server's URL (signalling). */
  server: string;
  /** Peer id to register. Default `calling-gateway`. */
  peerId?: string;
  /** Token for registering the reserved id (a fresh one per connect). */
  token?: () => string | Promise<string>;
  /** SIP UDP bind address and port. Default 127.0.0.1:5060 (port 0: any). */
  sipHost?: string;
  sipPort?: number;
  /** The address peers reach us at (Via, Contact, SDP) when binding 0.0.0.0. */
  publicHost?: string;
  /** RTP port range; default any free port. */
  rtpPorts?: { min: number; max: number };
  /** DNS servers for RFC 3263 lookups (NAPTR/SRV/A), `ip` or `ip:port`. Default: the system's. */
  dnsServers?: string[];
  /** Every SIP request goes to this proxy (overrides the domain of SIP identities). */
  outboundProxy?: Endpoint;
  /** Digest credentials for SIP calls (answered to 401/407). */
  credentials?: Credentials;
  /** The PSTN trunk E.164 numbers go to: `sip:+number@host;user=phone`. */
  trunk?: Endpoint & { domain?: string; credentials?: Credentials };
  /** Codecs offered, in order of preference. Default PCMU, PCMA. */
  codecs?: G711[];
  /** Unanswered calls are canceled after this long (ms). Default 60 000. */
  ringTimeout?: number;
  /** An answered call whose far end sends no RTP for this long (ms) ends as `failure` (sip error). 0: off. Default 30 000. */
  rtpTimeout?: number;
  /** Toll-fraud guard: E.164 prefixes phone calls may go to (e.g. ['+46', '+1']). Default: all. */
  allowedPrefixes?: string[];
  /** Toll-fraud guard: calls per user per minute. Default 10. */
  maxCallsPerMinute?: number;
  /**
   * Addresses / CIDRs incoming INVITEs may come from; others get 403 (logged). Default: the trunk's and the outbound
   * proxy's resolved addresses, and 127.0.0.1.
   */
  trustedSources?: string[];
  /** Incoming INVITEs per source address per minute; more get 503 with Retry-After. Default 60. */
  invitesPerMinute?: number;
  /** Phone number types refused before dialing (libphonenumber-js types). Default `['PREMIUM_RATE']`. */
  blockedNumberTypes?: PhoneNumberType[];
  /** The credits hook: asked before dialing. Default: everything allowed. */
  mayPlaceCall?: (req: CallAuthorizationRequest) => CallAuthorization | Promise<CallAuthorization>;
  /** Receives a record for every phone and SIP call when it ends. */
  onCallRecord?: (cdr: CallDetailRecord) => void;
  /** The test number's prompt (8 kHz mono 16-bit WAV). Default: the committed prompt. */
  promptPath?: string;
  /**
   * Codec of the WebRTC (browser) leg. `pcmu` (default): the gateway answers the browser's offer with G.711 µ-law
   * only (every browser offers it), so it runs no Opus encoder/decoder and no 48 kHz resampler per call — the SIP
   * leg is 8 kHz G.711 anyway, so nothing audible is lost, but the browser leg has no Opus FEC on a lossy network
   * (64 kbit/s each way). `opus`: the browser's preference (Opus, 48 kHz), bridged through a resampler.
   */
  browserCodec?: 'pcmu' | 'opus';
  /** TURN servers for the WebRTC leg (the calling server's, see `src/server/turn/`). */
  iceServers?: RTCIceServer[];
  /** ICE candidate filter for the WebRTC leg (tests: loopback only). */
  candidateFilter?: (address: string) => boolean;
  pacer?: Pacer;
  /**
   * Linux: move the process's helper threads (WebRTC's encoder, pacer and RTP-controller threads, Node's pools) to
   * SCHED_BATCH once a call's media is up. Run as root, WebRTC starts five real-time (SCHED_FIFO) threads per call;
   * at 20 calls a hundred of them preempted the JS thread that feeds every call's audio, which then got 16 % of a
   * core while always runnable (audio gaps). Default true; `GATEWAY_HELPER_THREADS=keep` turns it off.
   */
  batchHelperThreads?: boolean;
  log?: (message: string) => void;
  /** Test hook: lose the first N matching outgoing SIP datagrams. */
  dropOutgoingSip?: { match: RegExp; count: number };
}

interface StatusMapping { cause: CallEndCause; code: string }

/** SIP final status → the browser's end cause. */
export function mapSipStatus(status: number): StatusMapping {
  if (status === 486 || status === 600) return { cause: 'denied', code: 'busy' };
  if (status === 603) return { cause: 'denied', code: 'declined' };
  if (status === 404 || status === 410 || status === 484 || status === 604) return { cause: 'unavailable', code: 'not-found' };
  if (status === 408 || status === 480) return { cause: 'noAnswer', code: 'no-answer' };
  if (status === 487) return { cause: 'canceled', code: 'canceled' };
  if (status === 401 || status === 407) return { cause: 'failure', code: 'auth-failed' };
  return { cause: 'failure', code: `sip-${status}` };
}

export function sipError(status: number, reason: string, code = mapSipStatus(status).code): WireError {
  return { domain: 'sip', code, message: `The SIP call failed: ${status} ${reason}`, sipStatus: status, sipReason: reason.slice(0, 128) };
}

/** Live figures for the benchmark and diagnostics. */
export interface GatewayStats {
  active: number;
  total: number;
  rtp: RtpStats[];
  /** INVITE sent → first 180/183, ms, of the latest outgoing calls (at most 1000). */
  postDialDelaysMs: number[];
  /** 10 ms ticks the shared pacer skipped because the process stalled. */
  pacerTicksSkipped: number;
  /** Helper threads moved to SCHED_BATCH, and threads still real-time (SCHED_FIFO/RR) now (Linux; else 0). */
  batchedThreads: number;
  realtimeThreads: number;
  /** The JS thread's event loop since start (`performance.eventLoopUtilization()`): busy and idle ms. */
  eventLoop: { active: number; idle: number };
}

export class Gateway {
  readonly peer: NodePeer;
  readonly stack: SipStack;
  readonly ua: SipUA;
  /** RFC 3263: NAPTR/SRV/A for SIP domains and the trunk. */
  readonly locator: SipLocator;
  private readonly calls = new Set<BridgedCall>();
  private readonly recent = new Map<string, number[]>();
  private readonly testNumber: TestNumber;
  private readonly incoming = new Map<string, IncomingSipCall>();
  private readonly inbound: InboundGuard;
  private totalCalls = 0;
  private readonly postDialDelays: number[] = [];
  /** Moves helper threads to SCHED_BATCH as calls come up; undefined when turned off (see `batchHelperThreads`). */
  private readonly threads: HelperThreadBatcher | undefined;

  private constructor(peer: NodePeer, stack: SipStack, readonly options: GatewayOptions, trusted: string[]) {
    this.peer = peer;
    this.stack = stack;
    this.locator = new SipLocator(options.dnsServers ? { dnsServers: options.dnsServers } : {});
    this.inbound = new InboundGuard(trustedSourceList(trusted), options.invitesPerMinute ?? 60);
    if (options.batchHelperThreads ?? process.env.GATEWAY_HELPER_THREADS !== 'keep') this.threads = new HelperThreadBatcher((m) => this.log(m));
    this.ua = new SipUA(stack, {
      ...(options.outboundProxy ? { outboundProxy: options.outboundProxy } : {}),
      onRequest: (req, tx) => this.onSipRequest(req, tx),
    });
    this.testNumber = new TestNumber(options.promptPath, options.pacer ?? sharedPacer);
    peer.on('invite', (session) => {
      this.onInvite(session).catch((e: unknown) => {
        this.callLog(session.callId, `failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
        session.hangup('failure', { domain: 'sip', code: 'gateway-error', message: 'The calling gateway could not place the call.' });
      });
    });
    peer.on('error', (e) => this.log(`signalling: ${e.message}`));
    stack.on('error', (e) => this.log(`sip: ${e.message}`));
  }

  static async start(options: GatewayOptions): Promise<Gateway> {
    const trusted = options.trustedSources ?? await defaultTrustedSources(options);
    trustedSourceList(trusted); // a bad entry fails here, before anything listens
    const stack = await SipStack.create({
      host: options.sipHost ?? '127.0.0.1',
      port: options.sipPort ?? 5060,
      ...(options.publicHost ? { publicHost: options.publicHost } : {}),
      ...(options.dropOutgoingSip ? { dropOutgoing: options.dropOutgoingSip } : {}),
    });
    let peer: NodePeer;
    try {
      peer = await NodePeer.start({
        id: options.peerId ?? GATEWAY_PEER_ID,
        server: options.server,
        ...(options.token ? { token: options.token } : {}),
        ...(options.candidateFilter ? { candidateFilter: options.candidateFilter } : {}),
        ...(options.iceServers ? { iceServers: options.iceServers } : {}),
        ...(options.log ? { log: options.log } : {}),
        ...((options.browserCodec ?? 'pcmu') === 'pcmu' ? { audioCodecs: ['PCMU'] } : {}),
      });
    } catch (e) {
      await stack.close();
      throw e;
    }
    return new Gateway(peer, stack, options, trusted);
  }

  get sipEndpoint(): Endpoint { return { host: this.stack.host, port: this.stack.port }; }

  stats(): GatewayStats {
    return {
      active: this.calls.size, total: this.totalCalls, rtp: [...this.calls].flatMap((c) => (c.rtp ? [c.rtp.stats] : [])),
      postDialDelaysMs: [...this.postDialDelays], pacerTicksSkipped: (this.options.pacer ?? sharedPacer).skipped,
      batchedThreads: this.threads?.changed ?? 0, realtimeThreads: realtimeThreadCount(),
      eventLoop: (({ active, idle }) => ({ active, idle }))(performance.eventLoopUtilization()),
    };
  }

  /** @internal */
  _postDialDelay(ms: number): void {
    this.postDialDelays.push(Math.round(ms * 10) / 10);
    if (this.postDialDelays.length > 1000) this.postDialDelays.shift();
  }

  /** Ends every call (BYE/CANCEL on SIP, hangup to browsers), then leaves signalling and closes the SIP socket. */
  async stop(): Promise<void> {
    this.threads?.stop();
    for (const c of [...this.calls]) c.end('hungUp', 'gateway');
    for (const c of [...this.incoming.values()]) c.hangup(); // BYE (or 480 while ringing) to SIP callers
    this.testNumber.stopAll();
    await this.peer.stop();
    await new Promise((r) => setTimeout(r, 200)); // let BYE/CANCEL leave
    await this.stack.close();
  }

  /** @internal */
  _release(call: BridgedCall): void { this.calls.delete(call); }

  /** @internal A call's WebRTC threads exist once its media is up: check the thread policies shortly after. */
  _mediaUp(): void { this.threads?.request(); }

  /** @internal */
  log(m: string): void { this.options.log?.(m); }

  /** @internal One line per step of a call (invite received, authorized, INVITE sent, provisional, final, end). */
  callLog(callId: string, step: string): void { this.log(`call ${callId.slice(0, 12)}: ${step}`); }

  /** Out-of-dialog SIP requests: an INVITE for `sip:<user>@<gateway>` rings that app user; CANCEL ends it. */
  private onSipRequest(req: SipRequest, tx: ServerTx): boolean {
    if (req.method === 'INVITE') {
      const verdict = this.inbound.check(tx.source.host);
      if (verdict !== 'ok') {
        if (this.inbound.shouldLog(tx.source.host, verdict)) {
          this.log(`incoming INVITE from ${tx.source.host}:${tx.source.port} refused: ${verdict === 'untrusted' ? 'not a trusted source (SIP_TRUSTED_SOURCES)' : 'too many INVITEs a minute from it'}`);
        }
        if (verdict === 'untrusted') tx.respond(403, 'Forbidden');
        else tx.respond(503, 'Service Unavailable', { headers: [['retry-after', '60']] });
        return true;
      }
      void this.onIncomingSip(req, tx).catch((e: unknown) => this.log(`incoming SIP call failed: ${String(e)}`));
      return true;
    }
    if (req.method === 'CANCEL') {
      const call = this.incoming.get(getHeader(req, 'call-id') ?? '');
      if (!call) return false;
      call._cancel(tx);
      return true;
    }
    return false;
  }

  private async onIncomingSip(req: SipRequest, tx: ServerTx): Promise<void> {
    tx.respond(100, 'Trying');
    const call = new IncomingSipCall(this.ua, req, tx);
    try {
      assertUserId(call.toUser);
    } catch {
      call.reject(404, 'Not Found');
      return;
    }
    const codecs = this.options.codecs ?? ['PCMU', 'PCMA'];
    const remote = parseSdp(req.body, codecs);
    if (!remote) {
      call.reject(488, 'Not Acceptable Here');
      return;
    }
    const rtp = await RtpSession.open(this.options.sipHost ?? '127.0.0.1', this.options.rtpPorts);
    rtp.setRemote(remote);
    // The fork exists once the devices are rung; a hold before that has nobody to tell.
    let tell: ((onHold: boolean) => void) | undefined;
    watchMedia(this, rtp, call, (onHold) => tell?.(onHold));
    this.incoming.set(call.callId, call);
    // Ring every device of the user online (as app-to-app calls do; node-peer's DeviceFork): the first answer wins,
    // the others end with `otherDeviceAnswered`. No device list (an older server): the plain user id, which the
    // server routes to the user's most recent device. No device online: the plain id too, which ends `unavailable`
    // (→ 480).
    let fork: DeviceFork | undefined;
    try {
      fork = await DeviceFork.ring(this.peer, call.toUser, { to: call.toUser, callType: 'sip', video: false, ...sipCallerForBrowser(call) }, { proceed: () => call.isRinging });
    } catch (e) {
      // Signalling is down (the peer is reconnecting): nobody can be rung now.
      this.log(`incoming SIP call ${call.callId.slice(0, 24)}: ${e instanceof Error ? e.message : String(e)}`);
      call.reject(480, 'Temporarily Unavailable');
      this.incoming.delete(call.callId);
      rtp.close();
      return;
    }
    if (!fork) {
      // The SIP caller canceled meanwhile.
      this.incoming.delete(call.callId);
      rtp.close();
      return;
    }
    let answered = false;
    let flowing = false;
    rtp.once('flowing', () => { flowing = true; });
    const down = new Downsampler();
    const unsubscribe = (this.options.pacer ?? sharedPacer).add((tick) => {
      if (!answered) return;
      if (tick % 2 === 0) rtp.tick20();
      if (flowing) fork.sendAudio(rtp.jitter.pull10(), 8000);
    });
    const ringTimer = setTimeout(() => {
      if (call.isRinging) {
        call.reject(480, 'Temporarily Unavailable');
        fork.hangup('hungUp');
      }
    }, this.options.ringTimeout ?? 60_000);
    let cleaned = false;
    const cleanup = () => {
      if (cleaned) return;
      cleaned = true;
      clearTimeout(ringTimer);
      unsubscribe();
      setTimeout(() => rtp.close(), 200);
      this.incoming.delete(call.callId);
    };
    for (const session of fork.sessions) session.once('media', () => this._mediaUp());
    fork.onAudio((f) => rtp.write(down.process(f.samples, f.sampleRate, f.channelCount ?? 1)));
    fork.on('ringing', () => call.ringing());
    tell = (onHold) => fork.send({ type: 'hold', onHold });
    fork.on('hold', (onHold) => holdFromBrowser(this, rtp, call, onHold));
    fork.on('answer', () => {
      if (!call.isRinging) {
        fork.hangup('hungUp');
        return;
      }
      answered = true;
      clearTimeout(ringTimer);
      rtp.watchInactivity(this.options.rtpTimeout ?? 30_000);
      call.answer(buildSdp({
        address: this.stack.host, port: rtp.localPort, sessionId: String(Date.now()), version: 1, codecs: [remote.codec],
        dtmfPayloadType: remote.dtmfPayloadType ?? 101,
      }));
    });
    fork.once('end', (e) => {
      if (answered) {
        if (e.by === 'remote') call.hangup();
      } else if (e.by === 'remote' && call.isRinging) {
        // No device left ringing: 486 if one declined, else 480.
        if (e.cause === 'denied') call.reject(486, 'Busy Here');
        else call.reject(480, 'Temporarily Unavailable');
      }
      cleanup();
    });
    call.once('end', (e) => {
      if (e.by === 'remote') fork.hangup('hungUp');
      cleanup();
    });
    rtp.once('inactive', (ms) => {
      this.log(`incoming SIP call ${call.callId}: no RTP for ${ms} ms, hanging up`);
      call.hangup();
      fork.hangup('failure', rtpTimeoutError(ms));
    });
  }

  private async onInvite(session: PeerSession): Promise<void> {
    const invite = session.invite;
    this.callLog(invite.callId, `invite received: ${invite.callType} to ${invite.to} from ${invite.from}`);
    const refuse = (cause: CallEndCause, code: string, message: string, domain: WireError['domain'] = 'api') => {
      this.callLog(invite.callId, `refused: ${code}`);
      session.hangup(cause, { domain, code, message });
    };
    if (invite.callType !== 'phone' && invite.callType !== 'sip') {
      refuse('failure', 'unsupported', 'The gateway takes phone and SIP calls only.', 'capability');
      return;
    }
    let headers: Record<string, string>;
    try {
      if (invite.callType === 'phone') assertDialablePhoneNumber(invite.to, this.options.blockedNumberTypes);
      else assertSipAddress(invite.to);
      headers = validateHeaders(invite.headers);
    } catch (e) {
      if (e instanceof CallingError && e.code === 'number-type-blocked') refuse('failure', e.code, e.message);
      else refuse('failure', 'invalid-destination', e instanceof Error ? e.message : String(e), 'argument');
      return;
    }
    const isTest = invite.callType === 'phone' && invite.to === TEST_NUMBER;
    // Toll-fraud guards.
    if (!isTest) {
      const now = Date.now();
      const times = (this.recent.get(invite.from) ?? []).filter((t) => now - t < 60_000);
      if (times.length >= (this.options.maxCallsPerMinute ?? 10)) {
        refuse('failure', 'rate-limited', 'Too many calls: try again in a minute.');
        return;
      }
      times.push(now);
      this.recent.set(invite.from, times);
      const prefixes = this.options.allowedPrefixes;
      if (invite.callType === 'phone' && prefixes?.length && !prefixes.some((p) => invite.to.startsWith(p))) {
        refuse('failure', 'destination-not-allowed', 'Calls to this country are not allowed.');
        return;
      }
    }
    try {
      const verdict = await (this.options.mayPlaceCall?.({ userId: invite.from, callType: invite.callType, to: invite.to, isTestNumber: isTest }) ?? { allowed: true as const });
      if (!verdict.allowed) {
        refuse('failure', verdict.code, verdict.message);
        return;
      }
    } catch (e) {
      refuse('failure', 'authorization-failed', `The call could not be authorized: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (session.ended) {
      this.callLog(invite.callId, `ended by the caller (${session.ended.cause}) before dialing`);
      return;
    }
    this.callLog(invite.callId, 'authorized');
    this.totalCalls++;
    session.once('media', () => this._mediaUp());
    if (isTest) {
      const startedAt = Date.now();
      this.testNumber.handle(session, (answeredAt, endedBy) => {
        const endedAt = Date.now();
        this.options.onCallRecord?.({
          callId: invite.callId, userId: invite.from, callType: 'phone', to: invite.to, startedAt,
          ...(answeredAt ? { answeredAt } : {}), endedAt,
          durationSeconds: answeredAt ? Math.floor((endedAt - answeredAt) / 1000) : 0,
          endCause: session.ended?.cause ?? 'hungUp', endedBy, isTestNumber: true,
        });
      });
      return;
    }
    const call = new BridgedCall(this, session, invite, headers);
    this.calls.add(call);
    await call.start();
  }
}

/** One browser ↔ SIP call. */
class BridgedCall {
  rtp: RtpSession | undefined;
  private sip: OutgoingSipCall | undefined;
  private readonly startedAt = Date.now();
  private answeredAt: number | undefined;
  private ended = false;
  private ringTimer: ReturnType<typeof setTimeout> | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly down = new Downsampler();
  private sipStatus: { status: number; reason: string } | undefined;

  constructor(private readonly gw: Gateway, private readonly session: PeerSession, private readonly invite: InviteMessage, private readonly headers: Record<string, string>) {}

  async start(): Promise<void> {
    const { session, invite, gw } = this;
    const o = gw.options;
    // The browser may end the call at any time from here on.
    session.once('end', (e) => {
      if (e.by === 'remote') this.end(e.cause, 'caller');
    });
    session.on('dtmf', (digits) => {
      if (this.rtp?.supportsDtmf) this.rtp.sendDtmf(digits);
      else gw.log(`dtmf ${digits} dropped: the SIP side did not offer telephone-event`);
    });
    session.on('hold', (onHold) => {
      if (this.rtp && this.sip) holdFromBrowser(gw, this.rtp, this.sip, onHold);
    });
    // Media is connected on 183-with-SDP (early media) or on the answer, not before: the server's call records
    // start billable time when the gateway answers the browser's media offer.
    let target: { requestUri: string; dest: Endpoint | Endpoint[]; credentials?: Credentials };
    try {
      target = await this.route();
      this.rtp = await RtpSession.open(o.sipHost ?? '127.0.0.1', o.rtpPorts); // bind address; SDP carries the public one
    } catch (e) {
      this.fail('failure', { domain: 'sip', code: 'route-failed', message: `The call could not be routed: ${e instanceof Error ? e.message : String(e)}` });
      return;
    }
    if (this.ended) {
      this.rtp.close();
      return;
    }
    const rtp = this.rtp;
    session.onAudio((frame) => rtp.write(this.down.process(frame.samples, frame.sampleRate, frame.channelCount ?? 1)));
    const pacer = o.pacer ?? sharedPacer;
    let flowing = false;
    rtp.once('flowing', () => { flowing = true; });
    this.unsubscribe = pacer.add((tick) => {
      if (tick % 2 === 0) rtp.tick20();
      if (flowing) session.sendAudio(rtp.jitter.pull10(), 8000);
    });
    const sdp = buildSdp({
      address: gw.stack.host, port: rtp.localPort, sessionId: String(Date.now()), version: 1,
      codecs: o.codecs ?? ['PCMU', 'PCMA'], dtmfPayloadType: 101,
    });
    const headers: Header[] = Object.entries(this.headers).map(([k, v]) => [k.toLowerCase(), v]);
    const invitedAt = performance.now();
    let rang = false;
    const sip = gw.ua.invite({
      requestUri: target.requestUri,
      dest: target.dest,
      fromUser: invite.from,
      ...(invite.displayName ? { fromDisplay: invite.displayName } : {}),
      headers,
      sdp,
      ...(target.credentials ? { credentials: target.credentials } : {}),
    });
    this.sip = sip;
    const targets = (Array.isArray(target.dest) ? target.dest : [target.dest]).map((d) => `${d.host}:${d.port}${d.transport ? `/${d.transport}` : ''}`);
    gw.callLog(invite.callId, `INVITE sent to ${targets.join(', then ')} (Call-ID ${sip.callId})`);
    // The browser fails a call whose service says nothing within its connectTimeout; a far end can take longer to ring.
    session.progress();
    this.ringTimer = setTimeout(() => {
      this.fail('noAnswer', sipError(408, 'No answer', 'no-answer'));
    }, o.ringTimeout ?? 60_000);
    sip.on('progress', (status, reason, body) => {
      gw.callLog(invite.callId, `provisional ${status} ${reason}${body?.length ? ' with SDP' : ''}`);
      if (body && this.applySdp(body)) session.connectMedia();
      if (status === 180 || status === 183) {
        if (!rang) gw._postDialDelay(performance.now() - invitedAt);
        rang = true;
        session.ringing();
      }
    });
    watchMedia(gw, rtp, sip, (onHold) => session.send({ type: 'hold', onHold }));
    rtp.once('inactive', (ms) => this.fail('failure', rtpTimeoutError(ms)));
    sip.on('failover', (from, to, why) => gw.log(`SIP call ${sip.callId}: ${from.host}:${from.port} failed (${why}), trying ${to.host}:${to.port}`));
    sip.on('answered', (body) => {
      gw.callLog(invite.callId, 'final 200 OK');
      if (this.ended) return;
      this.applySdp(body);
      rtp.watchInactivity(o.rtpTimeout ?? 30_000);
      this.answeredAt = Date.now();
      if (this.ringTimer) clearTimeout(this.ringTimer);
      session.answer();
    });
    sip.on('end', (e) => this.onSipEnd(e));
  }

  private applySdp(body: Buffer): boolean {
    const remote = parseSdp(body, this.gw.options.codecs ?? ['PCMU', 'PCMA']);
    if (!remote || !this.rtp) return false;
    this.rtp.setRemote(remote);
    return true;
  }

  private async route(): Promise<{ requestUri: string; dest: Endpoint | Endpoint[]; credentials?: Credentials }> {
    const o = this.gw.options;
    if (this.invite.callType === 'phone') {
      const trunk = o.trunk;
      if (!trunk) throw new Error('no PSTN trunk is configured (SIP_TRUNK)');
      const domain = trunk.domain ?? `${trunk.host}${trunk.port !== 5060 ? `:${trunk.port}` : ''}`;
      return {
        requestUri: `sip:${this.invite.to}@${domain};user=phone`,
        dest: await this.gw.locator.locate(trunk),
        ...(trunk.credentials ? { credentials: trunk.credentials } : {}),
      };
    }
    const at = this.invite.to.lastIndexOf('@');
    const user = this.invite.to.slice(0, at);
    const [hostPort, param] = this.invite.to.slice(at + 1).split(';');
    const [host, port] = hostPort!.split(':');
    const transport = /^transport=(udp|tcp)$/i.exec(param ?? '')?.[1]?.toLowerCase() as 'udp' | 'tcp' | undefined;
    return {
      requestUri: `sip:${user}@${hostPort}${transport ? `;transport=${transport}` : ''}`,
      dest: o.outboundProxy ?? (await this.gw.locator.locate({ host: host!, ...(port ? { port: Number(port) } : {}), ...(transport ? { transport } : {}) })),
      ...(o.credentials ? { credentials: o.credentials } : {}),
    };
  }

  private onSipEnd(e: SipCallEnd): void {
    this.gw.callLog(this.invite.callId, e.kind === 'bye' ? 'BYE from the SIP side' : `final ${e.status ?? ''} ${e.reason ?? e.kind}`);
    if (this.ended) return;
    if (e.kind === 'bye') {
      this.finish('hungUp', 'callee');
      this.session.hangup('hungUp');
      return;
    }
    if (e.status) this.sipStatus = { status: e.status, reason: e.reason ?? '' };
    if (e.kind === 'timeout' || e.kind === 'rejected') {
      const status = e.status ?? 408;
      const mapping = mapSipStatus(status);
      this.finish(mapping.cause, 'callee');
      this.session.hangup(mapping.cause, sipError(status, e.reason ?? 'Request Timeout'));
    }
  }

  /** The browser (or the gateway) ends the call: CANCEL or BYE on the SIP side. */
  end(cause: CallEndCause, by: 'caller' | 'gateway'): void {
    if (this.ended) return;
    this.sip?.hangup();
    if (by === 'gateway') this.session.hangup(cause);
    this.finish(cause, by);
  }

  private fail(cause: CallEndCause, error: WireError): void {
    if (this.ended) return;
    this.gw.callLog(this.invite.callId, `failed: ${error.message}`);
    this.sip?.hangup();
    this.session.hangup(cause, error);
    this.finish(cause, 'gateway');
  }

  private finish(cause: CallEndCause, endedBy: CallDetailRecord['endedBy']): void {
    if (this.ended) return;
    this.ended = true;
    this.gw.callLog(this.invite.callId, `ended: ${cause} by the ${endedBy}`);
    if (this.ringTimer) clearTimeout(this.ringTimer);
    this.unsubscribe?.();
    // Keep the RTP port a moment for packets in flight, then release it.
    const rtp = this.rtp;
    setTimeout(() => rtp?.close(), 200);
    this.gw._release(this);
    const endedAt = Date.now();
    this.gw.options.onCallRecord?.({
      callId: this.invite.callId,
      userId: this.invite.from,
      callType: this.invite.callType as 'phone' | 'sip',
      to: this.invite.to,
      ...(this.sip ? { sipCallId: this.sip.callId } : {}),
      startedAt: this.startedAt,
      ...(this.answeredAt ? { answeredAt: this.answeredAt } : {}),
      endedAt,
      durationSeconds: this.answeredAt ? Math.floor((endedAt - this.answeredAt) / 1000) : 0,
      endCause: cause,
      endedBy,
      ...(this.sipStatus ? { sipStatus: this.sipStatus.status, sipReason: this.sipStatus.reason } : {}),
      isTestNumber: false,
    });
  }
}

/** The error a call ends with when the far end's media stopped without a BYE (`SIP_RTP_TIMEOUT`). */
function rtpTimeoutError(ms: number): WireError {
  return { domain: 'sip', code: 'media-timeout', message: `No audio arrived from the SIP side for ${Math.round(ms / 1000)} s: the call was ended.` };
}

/**
 * Re-offers (re-INVITE / UPDATE) move the media and may put the call on hold: RTP follows the new SDP (nothing is
 * sent while held), the hold is logged and `tell` passes it on to the browser (its call's `isRemoteOnHold`). The
 * answers to our own re-INVITEs (`holdFromBrowser`) are applied the same way; a failed one is logged, the call goes on.
 */
function watchMedia(gw: Gateway, rtp: RtpSession, sip: OutgoingSipCall | IncomingSipCall, tell: (onHold: boolean) => void): void {
  const codecs = gw.options.codecs ?? ['PCMU', 'PCMA'];
  const apply = (body: Buffer) => {
    const remote = parseSdp(body, codecs);
    if (remote) rtp.setRemote(remote);
  };
  sip.on('reoffer', apply);
  sip.on('reanswer', (body) => {
    gw.log(`SIP call ${sip.callId}: the far end accepted our ${rtp.isLocalOnHold ? 'hold' : 'resume'}`);
    apply(body);
  });
  sip.on('hold', (onHold) => {
    gw.log(`SIP call ${sip.callId}: the far end ${onHold ? 'put the call on hold' : 'resumed the call'}`);
    tell(onHold);
  });
  sip.on('holdFailed', (status, reason, retrying) => {
    gw.log(`SIP call ${sip.callId}: our ${rtp.isLocalOnHold ? 'hold' : 'resume'} re-INVITE got ${status} ${reason}${retrying ? ', sending it again shortly' : '; the call goes on as it was'}`);
  });
  rtp.on('latched', (from) => gw.log(`SIP call ${sip.callId}: RTP comes from ${from.address}:${from.port}, sending there (symmetric RTP)`));
}

/** The browser put the call on hold or resumed it: no RTP meanwhile, and a re-INVITE tells the far end. */
function holdFromBrowser(gw: Gateway, rtp: RtpSession, sip: OutgoingSipCall | IncomingSipCall, onHold: boolean): void {
  if (rtp.isLocalOnHold === onHold) return;
  gw.log(`SIP call ${sip.callId}: the browser ${onHold ? 'put the call on hold' : 'resumed the call'}`);
  rtp.setLocalHold(onHold);
  sip.setHold(onHold);
}

/**
 * What a SIP caller may tell the browser, cut to the limits the browser's own validators apply (`core/validation.ts`):
 * the caller as `sip:user@host` when that is a valid SIP address (else `sip:anonymous@anonymous.invalid`), a display
 * name without control characters (128 characters at most), and the INVITE's `x-` headers that `validateHeaders`
 * accepts, within its 1 KB. Anything else a SIP peer sends stays on the gateway.
 */
export function sipCallerForBrowser(call: { from: string; fromDisplay?: string | undefined; invite: SipRequest }): {
  from: string; displayName?: string; headers: Record<string, string>;
} {
  const m = /^sip:(.*)@([^@]*)$/.exec(call.from);
  let from = 'sip:anonymous@anonymous.invalid';
  for (const candidate of m ? [`${m[1]}@${m[2]}`, `anonymous@${m[2]}`] : []) {
    try {
      assertSipAddress(candidate);
      from = `sip:${candidate}`;
      break;
    } catch {
      // not presentable: try the next
    }
  }
  const headers: Record<string, string> = {};
  let bytes = 0;
  const encoder = new TextEncoder();
  for (const [name, value] of call.invite.headers) {
    if (!/^x-/i.test(name) || Object.keys(headers).length >= 32) continue;
    try {
      const one = validateHeaders({ [name]: value });
      const size = encoder.encode(name + value).length;
      if (bytes + size > MAX_HEADERS_BYTES) continue;
      Object.assign(headers, one);
      bytes += size;
    } catch {
      // a header the browser would refuse: not forwarded
    }
  }
  const displayName = cleanDisplayName(call.fromDisplay);
  return { from, headers, ...(displayName ? { displayName } : {}) };
}

/** The default trusted sources: 127.0.0.1 and the addresses the trunk and outbound proxy resolve to. */
async function defaultTrustedSources(o: GatewayOptions): Promise<string[]> {
  const out = new Set(['127.0.0.1']);
  for (const ep of [o.trunk, o.outboundProxy]) {
    if (!ep) continue;
    if (isIP(ep.host)) {
      out.add(ep.host);
      continue;
    }
    try {
      for (const { address } of await lookup(ep.host, { all: true })) out.add(address);
    } catch (e) {
      o.log?.(`SIP_TRUSTED_SOURCES default: ${ep.host} did not resolve (${e instanceof Error ? e.message : String(e)}); INVITEs from it are refused until restart`);
    }
  }
  return [...out];
}

export { randomToken };
