// Conference benchmark: participants in one room vs CPU of the mixing process (the conference child process), join
// time, gaps (frames received per second), and mix latency (a tone's onset in → its onset in another participant's
// mix). Participants are Node peers (@roamhq/wrtc) in this process, each sending its own sine, so the browser is not
// part of the figure. Everything on 127.0.0.1. Run alone: `node --import tsx bench/conference.ts` (prints JSON);
// BENCH_CONF_STEPS=3,6,10,20 sets the room sizes; CONFERENCE_CODEC=opus|g722|pcmu the legs' codec (see the README).
// The participants receive at whatever rate their codec decodes to (48 kHz Opus, 16 kHz G.722, 8 kHz PCMU).
// A/B of the mixers: BENCH_CONF_MIXERS=shared,per-leg (the default: both) runs each (CONFERENCE_MIXER in the mixing
// process) in turn, BENCH_CONF_RUNS=5 times interleaved (default 1); BENCH_CONF_TALKERS=3 participants send a tone
// (default 3, as in a real meeting; the others send silence), `all` makes everyone talk. The mix latency is measured
// in the first run only.
import { pacedTone } from '../test/support/paced-tone.js';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { startCallingServer } from '../src/server/calling-server.js';
import { mintUserToken } from '../src/server/auth/tokens.js';
import { NodePeer, type PeerSession } from '../src/server/node-peer/index.js';
import { CONFERENCE_PEER_ID } from '../src/core/protocol.js';
import { toneAmplitude } from '../src/server/conference/mixer.js';
import { batchHelperThreads, threadPolicy } from '../src/server/node-peer/threads.js';
import { readdirSync } from 'node:fs';
import { within } from './deadline.js';

const RATE = 48_000;
const loopbackOnly = (a: string) => a === '127.0.0.1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Participant {
  id: string;
  freq: number;
  peer: NodePeer;
  session: PeerSession;
  /** When false, sends silence (for onset measurements). */
  talking: boolean;
  framesIn: number;
  /** Rate of the last frame received. */
  rateIn: number;
  onFrame?: (samples: Int16Array, rate: number, at: number) => void;
  stop(): void;
}

/** CPU time (ms) of a process so far, from /proc (Linux). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14, 15)
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/** A thread's CPU time and run-queue wait (ms) and context switches, from /proc (Linux). The main thread's tid is the pid. */
function threadSched(pid: number, tid = pid): { cpuMs: number; waitMs: number; voluntary: number; involuntary: number } {
  const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number);
  const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
  const ctxt = (name: string) => Number(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { cpuMs: run! / 1e6, waitMs: wait! / 1e6, voluntary: ctxt('voluntary_ctxt_switches'), involuntary: ctxt('nonvoluntary_ctxt_switches') };
}

/** How many threads of a process run in each scheduling class. */
async function policies(pid: number): Promise<Record<string, number>> {
  const names: Record<number, string> = { 0: 'other', 1: 'realtime', 2: 'realtime', 3: 'batch', 5: 'idle' };
  const out: Record<string, number> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`).map(Number)) {
    const p = await threadPolicy(tid, pid);
    if (p !== undefined) out[names[p] ?? String(p)] = (out[names[p] ?? String(p)] ?? 0) + 1;
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

/** Per thread name (digits stripped: `AudioEncoder` × n): threads, how many ran, and their CPU as % of one core. */
function threadsByName(pid: number): Map<string, { threads: number; ms: number }> {
  const out = new Map<string, { threads: number; ms: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim().replace(/[\d-]+$/, '') || '?';
      const ms = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
      const e = out.get(`${name}\0${tid}`) ?? { threads: 1, ms: 0 };
      e.ms = ms;
      out.set(`${name}\0${tid}`, e);
    } catch { /* the thread ended */ }
  }
  return out;
}

function threadCpuDiff(before: Map<string, { ms: number }>, after: Map<string, { ms: number }>, elapsed: number): Record<string, { threads: number; busy: number; cpuPercent: number }> {
  const out: Record<string, { threads: number; busy: number; cpuPercent: number }> = {};
  for (const [key, v] of after) {
    const name = key.split('\0')[0]!;
    const d = v.ms - (before.get(key)?.ms ?? 0);
    const e = (out[name] ??= { threads: 0, busy: 0, cpuPercent: 0 });
    e.threads++;
    if (d > elapsed * 0.001) e.busy++;
    e.cpuPercent += (d / elapsed) * 100;
  }
  for (const [k, e] of Object.entries(out)) {
    e.cpuPercent = Number(e.cpuPercent.toFixed(1));
    if (e.cpuPercent < 0.5) delete out[k];
  }
  return out;
}

export async function runConferenceBench(): Promise<object> {
  const steps = (process.env.BENCH_CONF_STEPS ?? '3,6,10,20').split(',').map(Number).filter((n) => n >= 2);
  const mixers = (process.env.BENCH_CONF_MIXERS ?? 'shared,per-leg').split(',').map((x) => x.trim()).filter(Boolean);
  const runs = Math.max(1, Number(process.env.BENCH_CONF_RUNS ?? 1));
  const talkersEnv = process.env.BENCH_CONF_TALKERS ?? '3';
  const talkers = talkersEnv === 'all' ? Infinity : Math.max(2, Number(talkersEnv));
  const previous = process.env.CONFERENCE_MIXER;
  const all: Array<{ run: number; mixer: string; steps: object[]; mixLatencyToneOnset?: object; error?: string }> = [];
  try {
    for (let r = 0; r < runs; r++) {
      for (const mixer of mixers) {
        // The mixing child process reads CONFERENCE_MIXER when it starts (it inherits this process's environment).
        process.env.CONFERENCE_MIXER = mixer;
        try {
          all.push({ run: r + 1, mixer, ...(await runOnce(steps, talkers, r === 0)) });
        } catch (err) {
          all.push({ run: r + 1, mixer, steps: [], error: String(err instanceof Error ? err.message : err) });
        }
      }
    }
  } finally {
    if (previous === undefined) delete process.env.CONFERENCE_MIXER;
    else process.env.CONFERENCE_MIXER = previous;
  }
  // Per mixer and room size: the runs without gaps, and the mixing process's CPU in each run.
  const summary: Record<string, Record<string, object>> = {};
  for (const mixer of mixers) {
    summary[mixer] = {};
    for (const n of steps) {
      const rows = all.filter((a) => a.mixer === mixer).map((a) => (a.steps as Array<Record<string, unknown>>).find((s) => s.participants === n));
      const ok = rows.filter((s): s is Record<string, unknown> => !!s);
      summary[mixer]![`${n}participants`] = {
        runs: rows.length,
        gapless: ok.filter((s) => s.gapless === true).length,
        mixerCpuPercentOfOneCore: ok.map((s) => s.mixerCpuPercentOfOneCore),
        benchProcessCpuPercentOfOneCore: ok.map((s) => s.benchProcessCpuPercentOfOneCore),
        loadAverage1m: ok.map((s) => s.loadAverage1m),
      };
    }
  }
  return {
    what: 'participants in one room vs CPU of the conference (mixing) child process; 10 ms ticks; Node peers as participants',
    talkers: talkersEnv,
    summary,
    runs: all,
    codecSetting: process.env.CONFERENCE_CODEC || 'default',
    note: 'gapless = 0 input underruns, 0 dropped input frames, 100 ticks/s, no clock resets. mix latency = tone onset sent by one participant → onset in another participant’s received mix (two WebRTC legs in the negotiated codec, jitter buffers, 20–60 ms mixer input buffer)',
  };
}

async function runOnce(steps: number[], talkers: number, withLatency: boolean): Promise<{ steps: object[]; mixLatencyToneOnset?: object }> {
  const max = Math.max(...steps);
  const server = await startCallingServer({
    port: 0, host: '127.0.0.1', serveDemo: false,
    conference: { loopbackOnly: true, limits: { maxParticipants: max + 1, maxRooms: 4, emptyRoomTimeout: 100 } },
  });
  const childPid = server.conferences.process?.pid;
  if (!childPid) throw new Error('conference service did not start');
  const participants: Participant[] = [];
  const room = `bench-${Date.now().toString(36)}`;
  const joinMs: number[] = [];

  const join = async (k: number): Promise<Participant> => {
    const id = `bench-p${k}`;
    const peer = await within(NodePeer.start({ id, server: server.url, token: async () => (await mintUserToken(server.secret, id)).token, candidateFilter: loopbackOnly }), 30_000, `${id} start`);
    const t0 = performance.now();
    const session = peer.call(CONFERENCE_PEER_ID, { callId: `${id}-${Date.now()}`, from: id, to: room, callType: 'conference', video: false, headers: {} });
    const p: Participant = { id, freq: 400 + 150 * k, peer, session, talking: k < talkers, framesIn: 0, rateIn: 0, stop: () => undefined };
    session.onAudio((f) => {
      p.framesIn++;
      p.rateIn = f.sampleRate;
      p.onFrame?.(f.samples, f.sampleRate, performance.now());
    });
    p.stop = pacedTone(session, p.freq, 3000, () => p.talking);
    try {
      await within(new Promise<void>((resolve, reject) => {
        session.once('media', () => resolve());
        session.once('end', (e) => reject(new Error(`${id} could not join: ${JSON.stringify(e)}`)));
      }), 30_000, `${id} joined`);
    } catch (err) {
      p.stop();
      await peer.stop();
      throw err;
    }
    joinMs.push(performance.now() - t0);
    return p;
  };

  /**
   * Onset latency: `speaker` goes silent; once `listener` has not heard its frequency for 200 ms (pipeline drained),
   * the speaker starts its tone and the listener timestamps the first 30 ms window where it is back.
   */
  const onsetLatency = async (speaker: Participant, listener: Participant, runs = 5): Promise<number[]> => {
    const out: number[] = [];
    for (let r = 0; r < runs; r++) {
      speaker.talking = false;
      const window: Int16Array[] = [];
      let windowRate = 0;
      const level = (s: Int16Array, rate: number) => {
        if (rate !== windowRate) window.length = 0;
        windowRate = rate;
        window.push(s.slice());
        if (window.length > 3) window.shift();
        const joined = new Float32Array(window.reduce((n, w) => n + w.length, 0));
        let o = 0;
        for (const w of window) { joined.set(w, o); o += w.length; }
        // Hann window (gain 0.5, so ×2): the other participants' tones 150 Hz away must not leak into this bin.
        for (let i = 0; i < joined.length; i++) joined[i]! *= 1 - Math.cos((2 * Math.PI * i) / (joined.length - 1));
        return toneAmplitude(joined, rate, speaker.freq);
      };
      const result = await new Promise<number>((resolve) => {
        let quiet = 0;
        let started = 0;
        const give = setTimeout(() => resolve(NaN), 6000);
        listener.onFrame = (samples, rate, at) => {
          const amp = level(samples, rate);
          if (!started) {
            quiet = amp < 150 ? quiet + 1 : 0;
            if (quiet >= 20) {
              started = performance.now();
              speaker.talking = true;
            }
          } else if (amp > 1000) {
            clearTimeout(give);
            resolve(at - started);
          }
        };
      });
      listener.onFrame = undefined;
      speaker.talking = true;
      if (Number.isFinite(result)) out.push(Math.round(result));
      await sleep(300);
    }
    return out;
  };

  const results: object[] = [];
  let latency: object | undefined;
  try {
    for (const n of steps) {
      const joinStart = joinMs.length;
      while (participants.length < n) {
        // Four joins at a time (60 one by one take minutes on a loaded machine). On a loaded machine a join can time
        // out: one more try before the run fails.
        const ks = Array.from({ length: Math.min(4, n - participants.length) }, (_, i) => participants.length + i);
        participants.push(...await Promise.all(ks.map((k) => join(k).catch((err: unknown) => {
          console.error(`${String(err)}; retrying`);
          return join(k);
        }))));
      }
      // The participants' own WebRTC threads get the same treatment as the mixing process's (which does it itself
      // after joins): their real-time encoder threads would otherwise preempt the senders here and, on two cores, the
      // mixer's thread too. CONFERENCE_HELPER_THREADS=keep leaves both processes as WebRTC made them,
      // BENCH_PEER_THREADS=keep only this one.
      if (process.env.CONFERENCE_HELPER_THREADS !== 'keep' && process.env.BENCH_PEER_THREADS !== 'keep') await batchHelperThreads();
      await sleep(1500);
      const listener = participants[0]!;
      const framesBefore = listener.framesIn;
      const collected: Array<{ samples: Int16Array; rate: number }> = [];
      listener.onFrame = (s, rate) => collected.push({ samples: s.slice(), rate });
      const stats0 = server.conferences.process?.lastStats;
      const cpu0 = cpuMs(childPid);
      const main0 = threadSched(childPid);
      const threads0 = threadsByName(childPid);
      const own0 = process.cpuUsage();
      const t0 = performance.now();
      await sleep(4000);
      const elapsed = performance.now() - t0;
      const cpu = cpuMs(childPid) - cpu0;
      const main1 = threadSched(childPid);
      const threads1 = threadsByName(childPid);
      const own = process.cpuUsage(own0);
      const stats1 = server.conferences.process?.lastStats;
      listener.onFrame = undefined;
      // The frames at the rate of the last one (an Opus leg's first frames can be 16 kHz).
      const rateIn = collected.at(-1)?.rate ?? RATE;
      const frames = collected.filter((c) => c.rate === rateIn);
      const all = new Int16Array(frames.reduce((n, c) => n + c.samples.length, 0));
      let offset = 0;
      for (const c of frames) { all.set(c.samples, offset); offset += c.samples.length; }
      const amps = participants.slice(1).filter((p) => p.talking).map((p) => toneAmplitude(all, rateIn, p.freq));
      const joins = joinMs.slice(joinStart);
      const underruns = stats0 && stats1 ? (stats1.inputUnderruns ?? 0) - (stats0.inputUnderruns ?? 0) : NaN;
      const dropped = stats0 && stats1 ? (stats1.inputDropped ?? 0) - (stats0.inputDropped ?? 0) : NaN;
      const ticksPerSecond = stats0 && stats1 ? Math.round(((stats1.ticks - stats0.ticks) / elapsed) * 1000) : NaN;
      const resets = stats0 && stats1 ? stats1.resets - stats0.resets : NaN;
      results.push({
        participants: n,
        mixer: process.env.CONFERENCE_MIXER,
        talkers: Math.min(n, talkers),
        gapless: underruns === 0 && dropped === 0 && ticksPerSecond === 100 && resets === 0,
        // What the legs negotiated (the service answers with CONFERENCE_CODEC when the participant offers it).
        codec: listener.session.audioCodec ?? null,
        listenerReceiveRateHz: rateIn,
        mixerCpuPercentOfOneCore: Number(((cpu / elapsed) * 100).toFixed(1)),
        // The mixing process's JS thread alone: CPU, time it was runnable but waiting for a core, context switches.
        mixerMainThread: {
          cpuPercent: Number((((main1.cpuMs - main0.cpuMs) / elapsed) * 100).toFixed(1)),
          runQueueWaitPercent: Number((((main1.waitMs - main0.waitMs) / elapsed) * 100).toFixed(1)),
          voluntarySwitchesPerSecond: Math.round(((main1.voluntary - main0.voluntary) / elapsed) * 1000),
          involuntarySwitchesPerSecond: Math.round(((main1.involuntary - main0.involuntary) / elapsed) * 1000),
        },
        // Every thread of the mixing process by name (WebRTC runs an encoder, a pacer and RTP threads per leg).
        mixerThreadsByName: threadCpuDiff(threads0, threads1, elapsed),
        // This process: the participants' Node peers (each encodes what it sends and decodes its mix) and the
        // signalling server. It runs on the same two cores as the mixer.
        threadPolicies: { mixerProcess: await policies(childPid), benchProcess: await policies(process.pid) },
        benchProcessCpuPercentOfOneCore: Number((((own.user + own.system) / 1000 / elapsed) * 100).toFixed(1)),
        loadAverage1m: Number(loadavg()[0]!.toFixed(1)),
        perTickMs: stats0 && stats1 && stats1.ticks > stats0.ticks ? {
          mix: Number(((stats1.mixMs - stats0.mixMs) / (stats1.ticks - stats0.ticks)).toFixed(3)),
          mixAndSend: Number(((stats1.busyMs - stats0.busyMs) / (stats1.ticks - stats0.ticks)).toFixed(3)),
        } : null,
        clockResets: stats0 && stats1 ? stats1.resets - stats0.resets : null,
        // Gaps in what participants sent (the load generator's side) vs the mixer's own clock.
        inputUnderrunsPerSecond: stats0 && stats1 ? Number((((stats1.inputUnderruns ?? 0) - (stats0.inputUnderruns ?? 0)) / (elapsed / 1000)).toFixed(1)) : null,
        inputDroppedPerSecond: stats0 && stats1 ? Number((((stats1.inputDropped ?? 0) - (stats0.inputDropped ?? 0)) / (elapsed / 1000)).toFixed(1)) : null,
        ticksPerSecond,
        listenerFramesPerSecond: Math.round(((listener.framesIn - framesBefore) / elapsed) * 1000),
        listenerHearsEveryOtherTalker: { minToneAmplitude: Math.round(Math.min(...amps)), sentAmplitude: 3000, ownToneAmplitude: Math.round(toneAmplitude(all, rateIn, listener.freq)) },
        joinMs: joins.length ? { median: Math.round(median(joins)), max: Math.round(Math.max(...joins)) } : null,
      });
      if (withLatency && (n === steps[0] || n === max)) {
        const runs = await onsetLatency(participants[1]!, participants[0]!);
        latency = { ...(latency ?? {}), [`${n}participants`]: { medianMs: median(runs), runsMs: runs } };
      }
    }
  } finally {
    for (const p of participants) p.stop();
    for (const p of participants) await p.peer.stop();
    await server.close();
  }
  return { steps: results, ...(latency ? { mixLatencyToneOnset: latency } : {}) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = await runConferenceBench();
  console.log(JSON.stringify(out, null, 2));
  process.exit(0);
}
