// Test harness for the gateway: a calling server, the gateway on 127.0.0.1, a Node "browser" caller, and sipp.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCallingServer, type CallingServer } from '../../src/server/calling-server.js';
import { Gateway, type CallDetailRecord, type GatewayOptions } from '../../src/server/gateway/gateway.js';
import { NodePeer, type PeerSession, type SessionEnd } from '../../src/server/node-peer/index.js';
import { GATEWAY_PEER_ID } from '../../src/core/protocol.js';
import { rms, toneShare } from '../../src/server/gateway/media/dsp.js';
import { pacedTone } from '../support/paced-tone.js';

export const SIP_FIXTURES = fileURLToPath(new URL('../fixtures/sip/', import.meta.url));
export const loopbackOnly = (a: string) => a === '127.0.0.1';

/** A free UDP port on 127.0.0.1 (even, so +1 is usually free too for RTCP-minded tools). */
export async function freeUdpPort(): Promise<number> {
  for (;;) {
    const s = createSocket('udp4');
    const port = await new Promise<number>((r) => s.bind(0, '127.0.0.1', () => r(s.address().port)));
    await new Promise<void>((r) => s.close(() => r()));
    if (port % 2 === 0 && port < 65000) return port;
  }
}

export interface Sipp {
  port: number;
  mediaPort: number;
  /** Resolves with sipp's exit code (0: the scenario passed). */
  done: Promise<number>;
  /** Everything sipp sent and received (its -trace_msg log). */
  messages(): string;
  stop(): void;
}

let seq = 0;
/**
 * Starts a sipp UAS scenario from test/fixtures/sip on 127.0.0.1. `keys` become sipp `-key`s; `{{name}}` in the
 * scenario is replaced from `fill` first (for places sipp validates at load time, like status codes).
 */
export async function startSipp(
  scenario: string, keys: Record<string, string> = {}, options: { rtpEcho?: boolean; mport?: number; fill?: Record<string, string>; transport?: 'u1' | 't1'; port?: number } = {},
): Promise<Sipp> {
  const port = options.port ?? (await freeUdpPort());
  const mediaPort = await freeUdpPort();
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  const file = join(dir, scenario);
  writeFileSync(file, readFileSync(join(SIP_FIXTURES, scenario), 'utf8').replace(/\{\{(\w+)\}\}/g, (_m, k: string) => options.fill?.[k] ?? ''));
  const log = join(dir, `msg-${seq++}.log`);
  const allKeys = { mport: String(options.mport ?? mediaPort), ...keys };
  const args = [
    '-sf', file, '-i', '127.0.0.1', '-p', String(port), '-mi', '127.0.0.1', '-mp', String(mediaPort),
    '-m', '1', '-t', options.transport ?? 'u1', '-nostdin', '-trace_msg', '-message_file', log, '-timeout', '40s', '-timeout_error',
    ...(options.rtpEcho === false ? [] : ['-rtp_echo']),
    ...Object.entries(allKeys).flatMap(([k, v]) => ['-key', k, v]),
  ];
  const child: ChildProcess = spawn('sipp', args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<number>((resolve) => child.on('exit', (code) => {
    if (code !== 0 && stderr) console.error(`sipp ${scenario}: ${stderr.slice(0, 500)}`);
    resolve(code ?? -1);
  }));
  // sipp binds quickly; give it a moment to listen.
  await new Promise((r) => setTimeout(r, 300));
  return {
    port, mediaPort, done,
    messages: () => (existsSync(log) ? readFileSync(log, 'utf8') : ''),
    stop: () => { if (child.exitCode === null) child.kill('SIGTERM'); },
  };
}

export interface Env {
  server: CallingServer;
  gateway: Gateway;
  caller: NodePeer;
  /** The caller's user id (its peer id). */
  callerId: string;
  records: CallDetailRecord[];
  close(): Promise<void>;
}

let ids = 0;
export async function startEnv(options: Partial<GatewayOptions> | ((server: CallingServer) => Partial<GatewayOptions>) = {}): Promise<Env> {
  const server = await startCallingServer({ port: 0, serveDemo: false });
  const extra = typeof options === 'function' ? options(server) : options;
  const records: CallDetailRecord[] = [];
  const gateway = await Gateway.start({
    server: server.url, token: () => server.mintToken(GATEWAY_PEER_ID), sipHost: '127.0.0.1', sipPort: 0,
    candidateFilter: loopbackOnly, ringTimeout: 20_000, maxCallsPerMinute: 1000,
    onCallRecord: (r) => records.push(r), ...extra,
  });
  const id = `tester-${process.pid}-${ids++}`;
  const caller = await NodePeer.start({ id, server: server.url, token: () => server.mintToken(id), candidateFilter: loopbackOnly });
  return {
    server, gateway, caller, callerId: id, records,
    close: async () => {
      await caller.stop();
      await gateway.stop();
      await server.close();
    },
  };
}

let calls = 0;
/** Places a call from the Node "browser" to the gateway, as `CallClient.callSip` / `callPhoneNumber` do. */
export function call(env: Env, callType: 'sip' | 'phone', to: string, headers: Record<string, string> = {}, from = 'alice'): PeerSession {
  return env.caller.call(GATEWAY_PEER_ID, {
    callId: `call-${process.pid}-${calls++}`, from, to, callType, video: false, headers,
  });
}

export function once<T = void>(s: PeerSession, event: 'ringing' | 'answer' | 'media' | 'end', ms = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    s.once(event, (v?: SessionEnd) => {
      clearTimeout(t);
      resolve(v as T);
    });
  });
}

/**
 * Sends a tone from the caller in 10 ms frames until stopped, paced by the clock as a microphone is (`pacedTone`): a
 * plain 10 ms `setInterval` drifts to about 11 ms, so the caller sent 8 % too little audio and the far end's jitter
 * buffer ran dry about once a second — glitches of the test's own making.
 */
export function playTone(s: PeerSession, freq: number, amp = 8000): () => void {
  return pacedTone(s, freq, amp);
}

/**
 * Collects what the caller hears from now on, at the leg's steady rate: 8 kHz frames on the default G.711 (PCMU)
 * browser leg, 48 kHz with `browserCodec: 'opus'`. The first frames may come at another rate (wrtc starts at 16 kHz):
 * a rate change starts the recording over.
 */
export function record(s: PeerSession): { samples(): Int16Array; rate(): number } {
  let frames: Int16Array[] = [];
  let rate = 0;
  s.onAudio((f) => {
    if ((f.channelCount ?? 1) !== 1) return;
    if (f.sampleRate !== rate) {
      rate = f.sampleRate;
      frames = [];
    }
    frames.push(f.samples.slice());
  });
  return {
    samples: () => {
      const out = new Int16Array(frames.reduce((a, f) => a + f.length, 0));
      let o = 0;
      for (const f of frames) { out.set(f, o); o += f.length; }
      return out;
    },
    rate: () => rate,
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * What a listener hears of a steady tone at `freq`, 50 ms at a time: the share of 50 ms windows where the tone
 * carries most of the power (toneShare > 0.5), and the longest run of windows where it does not, in ms. One Goertzel
 * over seconds is no such measure: it is phase-coherent, so a single inaudible 5 ms shift of the stream (a jitter
 * buffer stretching once) halves it, and three make a clean-sounding tone score 0.1.
 */
export function toneHeard(samples: Int16Array, rate: number, freq: number, windowMs = 50): { clean: number; longestGapMs: number } {
  const n = Math.round((rate * windowMs) / 1000);
  let windows = 0, clean = 0, gap = 0, longest = 0;
  for (let i = 0; n > 0 && i + n <= samples.length; i += n) {
    windows++;
    if (toneShare(samples.subarray(i, i + n), rate, freq) > 0.5) {
      clean++;
      gap = 0;
    } else longest = Math.max(longest, ++gap);
  }
  return { clean: windows ? clean / windows : 0, longestGapMs: longest * windowMs };
}


/**
 * For a call to an echoing far end (sipp `-rtp_echo`): waits for the answer, sends a 440 Hz tone for `ms` and
 * measures what came back in the second half: level (RMS), the tone's share of it, and the sample rate heard.
 */
export async function echoOfTone(s: PeerSession, ms = 2000): Promise<{ level: number; share: number; rate: number }> {
  const heard = record(s);
  await once(s, 'answer');
  const stop = playTone(s, 440);
  await sleep(ms);
  stop();
  const got = heard.samples();
  const tail = got.subarray(Math.floor(got.length / 2));
  return { level: rms(tail), share: toneShare(tail, heard.rate(), 440), rate: heard.rate() };
}

/**
 * sipp as a SIP caller (`uac-call.xml`, RTP echo) calling `user` at the gateway `host:port`; `extra` adds sipp
 * arguments (e.g. `-t t1`). `done` resolves with sipp's exit code (0: 180 and 200 seen, its BYE answered).
 */
export async function sippCalls(gateway: string, user: string, extra: string[] = []): Promise<{ done: Promise<number | null> }> {
  const port = await freeUdpPort();
  const mp = await freeUdpPort();
  const sipp = spawn('sipp', [gateway, '-sf', `${SIP_FIXTURES}uac-call.xml`, '-s', user, ...extra,
    '-i', '127.0.0.1', '-p', String(port), '-mi', '127.0.0.1', '-mp', String(mp), '-rtp_echo', '-m', '1', '-nostdin', '-timeout', '30s', '-timeout_error'], { stdio: 'ignore' });
  return { done: new Promise<number | null>((r) => sipp.on('exit', (c) => r(c))) };
}

/** Rings, answers `inc` playing a 440 Hz tone until the far end hangs up: how it ended, and what was heard (its second half). */
export async function answerWithTone(inc: PeerSession): Promise<{ end: SessionEnd; heardLevel: number }> {
  inc.ringing();
  const heard = record(inc);
  const stop = playTone(inc, 440);
  await sleep(300);
  inc.answer();
  const end = await once<SessionEnd>(inc, 'end', 15_000);
  stop();
  const got = heard.samples();
  return { end, heardLevel: rms(got.subarray(Math.floor(got.length / 2))) };
}
