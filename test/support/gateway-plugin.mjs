// Browser-test support for the phone/SIP gateway: starts the gateway (as `npm start` does: a child process, here on
// 127.0.0.1 with loopback-only ICE) next to the run's calling server, and drives real SIP peers for the tests:
// `sip-baresip` (an auto-answering baresip that plays 1000 Hz and records what it hears) and `sip-sipp` (scenarios
// from test/fixtures/sip). Everything binds 127.0.0.1.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGatewayProcess, storeAuthorizer, ensureTestNumberFree } from '../../src/server/gateway/launcher.ts';
import { readWav, rms, toneShare } from '../../src/server/gateway/media/dsp.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/sip/', import.meta.url));

let gatewaySip;

/** Starts the gateway for `server` and waits until it is registered. */
export async function startTestGateway(server) {
  await ensureTestNumberFree(server.store);
  const gateway = startGatewayProcess({
    server: server.url,
    mintToken: () => server.mintToken('calling-gateway'),
    authorize: storeAuthorizer(server.store),
    env: { ...process.env, SIP_HOST: '127.0.0.1', SIP_PORT: '0', GATEWAY_LOOPBACK_ONLY: '1', SIP_CALLS_PER_MINUTE: '1000', SIP_RING_TIMEOUT: '20' },
    log: (m) => { if (process.env.GATEWAY_DEBUG) console.log(`[gateway] ${m}`); },
  });
  // Never hold up (or fail) the whole browser run: without a gateway only the gateway tests fail.
  try {
    gatewaySip = await Promise.race([
      gateway.ready,
      new Promise((_r, reject) => setTimeout(() => reject(new Error('not ready within 30 s')), 30_000).unref()),
    ]);
  } catch (err) {
    console.warn(`[gateway] not started for this run: ${err instanceof Error ? err.message : String(err)}`);
  }
  return gateway;
}

async function freeUdpPort() {
  for (;;) {
    const s = createSocket('udp4');
    const port = await new Promise((r) => s.bind(0, '127.0.0.1', () => r(s.address().port)));
    await new Promise((r) => s.close(() => r()));
    if (port % 2 === 0 && port < 60000) return port;
  }
}

async function freeTcpPort() {
  const srv = createServer();
  const port = await new Promise((r) => srv.listen(0, '127.0.0.1', () => r(srv.address().port)));
  await new Promise((r) => srv.close(() => r()));
  return port;
}

const peers = new Map();
let nextId = 1;

function fill(template, values) {
  return template.replace(/\{\{(\w+)\}\}/g, (_m, k) => String(values[k] ?? ''));
}

/** Sends a ctrl_tcp command (netstring JSON) to baresip. */
function baresipCommand(port, command, params = '') {
  return new Promise((resolve, reject) => {
    const json = JSON.stringify({ command, params, token: String(Date.now()) });
    const sock = connect(port, '127.0.0.1', () => sock.end(`${Buffer.byteLength(json)}:${json},`));
    sock.on('error', reject);
    sock.on('close', () => resolve(true));
    setTimeout(() => sock.destroy(), 1000);
  });
}

function analyzeNewest(dir, suffix) {
  const files = readdirSync(dir).filter((f) => f.endsWith(suffix)).sort();
  if (!files.length) return null;
  const { samples, sampleRate } = readWav(readFileSync(join(dir, files.at(-1))));
  const tail = samples.subarray(Math.floor(samples.length / 4));
  let bestF = 0, best = 0;
  for (let f = 200; f <= 3400; f += 20) {
    const share = toneShare(tail, sampleRate, f);
    if (share > best) { best = share; bestF = f; }
  }
  return { seconds: samples.length / sampleRate, rms: rms(tail), dominantHz: bestF, dominantShare: best };
}

/** `sip-*` commands. Returns undefined for other commands. */
export async function sipCommand(command, payload = {}) {
  if (command === 'sip-baresip') {
    if (payload.action === 'start') {
      const port = await freeUdpPort();
      const ctrlPort = await freeTcpPort();
      const rtpMin = 20000 + 200 * (nextId % 100);
      const dir = mkdtempSync(join(tmpdir(), 'baresip-'));
      mkdirSync(join(dir, 'snd'));
      const values = { port, rtp_min: rtpMin, rtp_max: rtpMin + 100, ctrl_port: ctrlPort, snd_path: join(dir, 'snd') };
      writeFileSync(join(dir, 'config'), fill(readFileSync(join(FIXTURES, 'baresip/config.template'), 'utf8'), values));
      writeFileSync(join(dir, 'accounts'), fill(readFileSync(join(FIXTURES, 'baresip/accounts.template'), 'utf8'), values));
      const child = spawn('baresip', ['-f', dir], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let log = '';
      child.stdout.on('data', (d) => { log += d.toString(); });
      child.stderr.on('data', (d) => { log += d.toString(); });
      const id = String(nextId++);
      peers.set(id, { kind: 'baresip', child, dir, ctrlPort, log: () => log });
      for (let i = 0; i < 50 && !log.includes('baresip is ready'); i++) await new Promise((r) => setTimeout(r, 100));
      return { id, port, ready: log.includes('baresip is ready') };
    }
    const peer = peers.get(payload.id);
    if (!peer) throw new Error(`no SIP peer ${payload.id}`);
    if (payload.action === 'hangup') return baresipCommand(peer.ctrlPort, 'hangup');
    if (payload.action === 'report') {
      const log = peer.log().replace(/\r/g, '\n');
      return {
        established: /Call established/.test(log),
        terminated: /terminated \(duration/.test(log),
        dtmf: [...log.matchAll(/received event: '(.)' \(end=1\)/g)].map((m) => m[1]).join(''),
        received: analyzeNewest(join(peer.dir, 'snd'), '-dec.wav'),
      };
    }
    if (payload.action === 'stop') {
      peer.child.kill('SIGTERM');
      peers.delete(payload.id);
      setTimeout(() => rmSync(peer.dir, { recursive: true, force: true }), 1000);
      return true;
    }
  }
  if (command === 'sip-sipp') {
    if (payload.action === 'start') {
      const port = await freeUdpPort();
      const mediaPort = await freeUdpPort();
      const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
      const file = join(dir, payload.scenario);
      writeFileSync(file, fill(readFileSync(join(FIXTURES, payload.scenario), 'utf8'), payload.fill ?? {}));
      const log = join(dir, 'messages.log');
      const keys = { mport: String(mediaPort), ...(payload.keys ?? {}) };
      // payload.call: act as a SIP caller (UAC) to `sip:<payload.call>@gateway`.
      const uac = payload.call ? [`${gatewaySip.host}:${gatewaySip.port}`, '-s', payload.call] : [];
      const child = spawn('sipp', [...uac,
        '-sf', file, '-i', '127.0.0.1', '-p', String(port), '-mi', '127.0.0.1', '-mp', String(mediaPort), '-rtp_echo',
        '-m', '1', '-nostdin', '-trace_msg', '-message_file', log, '-timeout', '40s', '-timeout_error',
        ...Object.entries(keys).flatMap(([k, v]) => ['-key', k, v]),
      ], { cwd: dir, stdio: 'ignore' });
      const id = String(nextId++);
      const done = new Promise((r) => child.on('exit', (code) => r(code)));
      peers.set(id, { kind: 'sipp', child, done, log });
      await new Promise((r) => setTimeout(r, 300));
      return { id, port };
    }
    const peer = peers.get(payload.id);
    if (!peer) throw new Error(`no SIP peer ${payload.id}`);
    if (payload.action === 'result') {
      const code = await Promise.race([peer.done, new Promise((r) => setTimeout(() => r(null), payload.waitMs ?? 5000))]);
      return { exitCode: code, messages: existsSync(peer.log) ? readFileSync(peer.log, 'utf8') : '' };
    }
    if (payload.action === 'stop') {
      peer.child.kill('SIGTERM');
      peers.delete(payload.id);
      return true;
    }
  }
  return undefined;
}

export function stopSipPeers() {
  for (const p of peers.values()) p.child.kill('SIGTERM');
  peers.clear();
}
