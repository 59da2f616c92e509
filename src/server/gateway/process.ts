/**
 * The gateway's child-process entry (forked by `launcher.ts`): a native WebRTC crash here cannot take the
 * signalling server down. It talks to its parent over the IPC channel:
 *
 * - child → parent `{ type: 'token', id }` — parent replies `{ type: 'token', id, token }` (a fresh service token)
 * - child → parent `{ type: 'authorize', id, request }` — parent replies `{ type: 'authorized', id, verdict }`
 *   (the credits hook: "may this user place this call?")
 * - child → parent `{ type: 'cdr', record }` — a call detail record
 * - child → parent `{ type: 'ready', sip: { host, port } }` — registered and listening
 * - parent → child `{ type: 'stats', id }` — child replies `{ type: 'stats', id, stats }` (GatewayStats)
 * - parent → child `{ type: 'stop' }` — hang up every call and exit
 *
 * Configuration: `CALLING_SERVER_URL` plus the SIP_* variables of `config.ts`.
 */
import { gatewayConfigFromEnv } from './config.js';
import { restoreMainThread } from '../node-peer/threads.js';
import { Gateway, type CallAuthorization, type CallAuthorizationRequest, type CallDetailRecord, type GatewayStats } from './gateway.js';

export type ChildMessage =
  | { type: 'token'; id: number }
  | { type: 'authorize'; id: number; request: CallAuthorizationRequest }
  | { type: 'cdr'; record: CallDetailRecord }
  | { type: 'ready'; sip: { host: string; port: number } }
  | { type: 'log'; message: string }
  | { type: 'stats'; id: number; stats: GatewayStats };

export type ParentMessage =
  | { type: 'token'; id: number; token: string }
  | { type: 'authorized'; id: number; verdict: CallAuthorization }
  | { type: 'stats'; id: number }
  | { type: 'stop' };

function send(m: ChildMessage): void {
  process.send?.(m);
}

let next = 1;
const waiting = new Map<number, (m: ParentMessage) => void>();
function ask<T extends ParentMessage>(m: { type: 'token' } | { type: 'authorize'; request: CallAuthorizationRequest }, timeoutMs = 5000): Promise<T> {
  const id = next++;
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => {
      waiting.delete(id);
      reject(new Error(`no answer from the server process to ${m.type}`));
    }, timeoutMs);
    waiting.set(id, (reply) => {
      clearTimeout(t);
      resolve(reply as T);
    });
    send({ ...m, id } as ChildMessage);
  });
}

async function main(): Promise<void> {
  const server = process.env.CALLING_SERVER_URL;
  if (!server || !process.send) throw new Error('process.ts is started by launcher.ts (needs IPC and CALLING_SERVER_URL)');
  let gateway: Gateway | undefined;
  process.on('message', (raw: ParentMessage) => {
    if (raw.type === 'stop') {
      void (gateway?.stop() ?? Promise.resolve()).finally(() => process.exit(0));
      return;
    }
    if (raw.type === 'stats') {
      if (gateway) send({ type: 'stats', id: raw.id, stats: gateway.stats() });
      return;
    }
    const id = raw.id;
    waiting.get(id)?.(raw);
    waiting.delete(id);
  });
  process.on('disconnect', () => {
    // The server is gone: hang up properly, then leave.
    void (gateway?.stop() ?? Promise.resolve()).finally(() => process.exit(0));
  });
  const config = gatewayConfigFromEnv();
  const loopbackOnly = process.env.GATEWAY_LOOPBACK_ONLY === '1';
  gateway = await Gateway.start({
    ...config,
    server,
    token: async () => (await ask<{ type: 'token'; id: number; token: string }>({ type: 'token' })).token,
    mayPlaceCall: async (request) => (await ask<{ type: 'authorized'; id: number; verdict: CallAuthorization }>({ type: 'authorize', request })).verdict,
    onCallRecord: (record) => send({ type: 'cdr', record }),
    log: (message) => send({ type: 'log', message }),
    ...(loopbackOnly ? { candidateFilter: (a: string) => a === '127.0.0.1' } : {}),
    ...(process.env.GATEWAY_ICE_SERVERS ? { iceServers: JSON.parse(process.env.GATEWAY_ICE_SERVERS) as RTCIceServer[] } : {}),
  });
  // Not back on the signalling server within the deadline: exit (code 1), and the launcher starts a fresh gateway.
  gateway.peer.on('lost', (err) => {
    send({ type: 'log', message: `${err.message}; exiting for a restart` });
    setTimeout(() => process.exit(1), 3000).unref();
    void gateway?.stop().finally(() => process.exit(1));
  });
  restoreMainThread(); // started under `chrt -b` by the launcher (see schedulingPrefix): the JS thread only
  send({ type: 'ready', sip: gateway.sipEndpoint });
}

// Last-resort guards: a stray rejection (a library's async callback) is logged, not fatal; an uncaught exception
// leaves state unknown, so the process exits and the launcher restarts it.
process.on('unhandledRejection', (e) => send({ type: 'log', message: `unhandled rejection: ${e instanceof Error ? e.stack ?? e.message : String(e)}` }));
process.on('uncaughtException', (e) => {
  send({ type: 'log', message: `uncaught exception, restarting: ${e.stack ?? e.message}` });
  process.exit(1);
});

main().catch((e: unknown) => {
  send({ type: 'log', message: `gateway failed to start: ${e instanceof Error ? e.message : String(e)}` });
  process.exit(2);
});
