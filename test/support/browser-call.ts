// Drives real calls between Chromium pages served by a calling server (the built bundle at /dist, demo-mode tokens
// from /dev/token): used by the HTTPS and network-namespace tests.
import type { Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--headless=new', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required',
];

export interface CallOutcome {
  state: string;
  endCause?: string;
  errorCode?: string;
  errorDomain?: string;
  /** ms from `callUserVideo` to `established` (or to the end). */
  ms: number;
  /** The ICE servers the client used (`client.iceServers`). */
  iceServers: RTCIceServer[];
}

export interface MediaFlow {
  audioPacketsReceived: number;
  videoBytesReceived: number;
  bytesSent: number;
  /** Candidate types of the selected pair (`relay`, `host`, …). */
  local?: string;
  remote?: string;
  /** How this browser reaches its TURN server when its own candidate is `relay`: `udp`, `tcp` or `tls`. */
  relayProtocol?: string;
}

/**
 * tsx compiles the functions passed to `page.evaluate` with esbuild's keepNames, which calls a `__name` helper the
 * page lacks: give every page one.
 */
export async function keepNames(page: Page): Promise<void> {
  await page.evaluate('globalThis.__name = globalThis.__name || ((f) => f)');
}

/** Signs `userId` in from the page (already at the server's origin) and answers every incoming call. */
export async function signIn(page: Page, userId: string, options: Record<string, unknown> = {}): Promise<RTCIceServer[]> {
  await keepNames(page);
  return page.evaluate(async ({ userId, options }) => {
    const { CallClient } = await import('/dist/calling-elements.js' as string) as typeof import('../../src/index.js');
    // A page given `__mintToken` (page.exposeFunction: a server with CALLING_SECRET) signs in with it, else demo mode.
    const mint = (window as unknown as { __mintToken?: (u: string) => Promise<string> }).__mintToken;
    const token = async () => (mint ? mint(userId) : ((await (await fetch(`/dev/token?userId=${userId}`)).json()) as { token: string }).token);
    const client = new CallClient({ userId, server: location.origin, token, audio: false, ...options });
    client.setSupportCalling(true);
    const w = window as unknown as Record<string, unknown>;
    w.client = client;
    client.addEventListener('incomingcall', (e) => {
      w.call = e.call;
      e.call.answer({ video: true });
    });
    await client.start();
    // The server's TURN credentials come with the connection's first messages.
    await new Promise((r) => setTimeout(r, 200));
    return [...client.iceServers];
  }, { userId, options });
}

/** Places a video (or audio-only) call to `callee` and resolves once it is established or has ended. */
export async function placeVideoCall(page: Page, callee: string, video = true): Promise<CallOutcome> {
  return page.evaluate(async ([callee, video]) => {
    const w = window as unknown as Record<string, unknown>;
    const client = w.client as import('../../src/index.js').CallClient;
    const start = performance.now();
    const call = video ? client.callUserVideo(callee) : client.callUser(callee);
    w.call = call;
    await new Promise<void>((resolve) => {
      const check = () => { if (call.state === 'established' || call.state === 'ended') resolve(); };
      call.addEventListener('statechange', check);
      check();
    });
    const d = call.details;
    return {
      state: call.state, ms: Math.round(performance.now() - start), iceServers: [...client.iceServers],
      ...(d.endCause ? { endCause: d.endCause } : {}),
      ...(d.error ? { errorCode: d.error.code, errorDomain: d.error.domain } : {}),
    };
  }, [callee, video] as const);
}

/** Media counters of the page's current call after `waitMs`, and the selected candidate pair's types. */
export async function mediaFlow(page: Page, waitMs = 2000): Promise<MediaFlow> {
  return page.evaluate(async (waitMs) => {
    await new Promise((r) => setTimeout(r, waitMs));
    // The call's media PeerConnection (internal: src/core/call-link.ts); no public API hands out the candidate pair.
    const call = (window as unknown as Record<string, unknown>).call as { link?: { peerConnection?: RTCPeerConnection } } | undefined;
    const pc = call?.link?.peerConnection;
    const out = { audioPacketsReceived: 0, videoBytesReceived: 0, bytesSent: 0 } as {
      audioPacketsReceived: number; videoBytesReceived: number; bytesSent: number; local?: string; remote?: string; relayProtocol?: string;
    };
    if (!pc) return out;
    const stats = await pc.getStats();
    const byId = new Map<string, Record<string, unknown>>();
    stats.forEach((s: Record<string, unknown>) => byId.set(s.id as string, s));
    for (const s of byId.values()) {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') out.audioPacketsReceived += Number(s.packetsReceived ?? 0);
      if (s.type === 'inbound-rtp' && s.kind === 'video') out.videoBytesReceived += Number(s.bytesReceived ?? 0);
      if (s.type === 'outbound-rtp') out.bytesSent += Number(s.bytesSent ?? 0);
      if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') {
        const pair = byId.get(s.selectedCandidatePairId);
        const local = pair && byId.get(pair.localCandidateId as string);
        const remote = pair && byId.get(pair.remoteCandidateId as string);
        if (local) out.local = local.candidateType as string;
        if (local?.relayProtocol) out.relayProtocol = local.relayProtocol as string;
        if (remote) out.remote = remote.candidateType as string;
      }
    }
    return out;
  }, waitMs);
}
