// Dev-server plugins for the browser tests: a real calling server per run, CommonJS dependencies bundled to ESM,
// and commands that open and drive extra real pages (a second user in its own tab).
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { SignJWT } from 'jose';
import { startCallingServer } from '../../src/server/calling-server.ts';
import { browserAliases, peerjsFixPlugin } from '../../scripts/aliases.mjs';
import { sipCommand, startTestGateway, stopSipPeers } from './gateway-plugin.mjs';
import { turnReady } from './turn-ready.ts';

/**
 * Starts a calling server on 127.0.0.1 (random port) for the run; pages read `/__calling-config`
 * (`{ server, tokenUrl }`) and fetch a signalling token per connect from `/__calling-token?userId=…`
 * (`{ token, expiresAt }`). Auth tests ask for bad tokens with `&variant=forged|expired|other-subject`
 * and for short-lived ones with `&ttl=<seconds>`.
 */
export function callingServerPlugin() {
  let server;
  let scratch;
  let gateway;
  return {
    name: 'calling-server',
    async serverStart() {
      // The conference service runs too (child process, loopback ICE only); small limits for the conference tests.
      server = await startCallingServer({
        port: 0, host: '127.0.0.1', serveDemo: false,
        conference: { loopbackOnly: true, limits: { maxParticipants: 3, maxRooms: 10, emptyRoomTimeout: 300 } },
      });
      // The phone/SIP gateway, as `npm start` runs it (child process), on 127.0.0.1.
      gateway = await startTestGateway(server);
    },
    async serverStop() {
      stopSipPeers();
      await gateway?.stop();
      await scratch?.close();
      await server?.close();
    },
    /**
     * `scratch-server` ({ action: 'start' | 'restart' | 'stop', downMs }): a second calling server, sharing the main
     * one's secret (so `/__calling-token` tokens work on it), that fault tests may restart without disturbing the
     * other test files running at the same time. Returns its URL.
     */
    async executeCommand({ command, payload }) {
      // `sip-baresip` / `sip-sipp`: real SIP peers for the gateway tests (test/support/gateway-plugin.mjs).
      if (command.startsWith('sip-')) return sipCommand(command, payload);
      if (command === 'silent-service') return silentService(server, payload);
      if (command !== 'scratch-server') return undefined;
      const start = (port = 0) => startCallingServer({ port, secret: server.secret, host: '127.0.0.1', serveDemo: false });
      if (payload.action === 'start') scratch ??= await start();
      if (payload.action === 'restart' && scratch) {
        const { port } = scratch;
        await scratch.close();
        await new Promise((r) => setTimeout(r, payload.downMs ?? 500));
        scratch = await start(port);
      }
      if (payload.action === 'stop') {
        await scratch?.close();
        scratch = undefined;
      }
      return scratch?.url ?? null;
    },
    async serve(context) {
      // Conference tests: `/__conference?op=room|callout|remove|mute&id=…&userId=…&muted=…` → `{ status, body }` from
      // the conference backend (what the REST API would answer), without the cross-origin Basic-auth dance.
      if (context.path === '/__conference') {
        return { body: JSON.stringify(await conferenceOp(server, context.query)), type: 'json' };
      }
      if (context.path === '/__calling-records') {
        const page = await server.store.listCalls({ user: String(context.query.user ?? ''), limit: 100, offset: 0 });
        return { body: JSON.stringify(page), type: 'json' };
      }
      if (context.path === '/__calling-config') {
        return { body: JSON.stringify({ server: server.url, tokenUrl: '/__calling-token' }), type: 'json' };
      }
      if (context.path === '/__calling-token') {
        return testToken(server, context.query).then(
          (body) => ({ body: JSON.stringify(body), type: 'json' }),
          (err) => ({ status: 400, body: JSON.stringify({ error: String(err?.message ?? err) }), type: 'json' }),
        );
      }
    },
  };
}

/**
 * `silent-service` ({ action: 'start' | 'stop' }): a calling server of its own (sharing the main one's secret) whose
 * gateway peer takes every invite and then says nothing — the stall the SDK must not wait out. `start` returns
 * `{ server }`; `stop` returns `{ invites, ends }`: the invites taken and how the gateway's sessions ended.
 */
let silent;
async function silentService(main, payload) {
  if (payload.action === 'start') {
    const { NodePeer } = await import('../../src/server/node-peer/index.ts');
    const { GATEWAY_PEER_ID } = await import('../../src/core/protocol.ts');
    const server = await startCallingServer({ port: 0, secret: main.secret, host: '127.0.0.1', serveDemo: false });
    const peer = await NodePeer.start({ id: GATEWAY_PEER_ID, server: server.url, token: () => server.mintToken(GATEWAY_PEER_ID), candidateFilter: (a) => a === '127.0.0.1' });
    silent = { server, peer, invites: 0, ends: [] };
    const state = silent;
    peer.on('invite', (session) => {
      state.invites++;
      session.once('end', (e) => state.ends.push({ cause: e.cause, by: e.by }));
    });
    return { server: server.url };
  }
  // The page's hang-up is on its way: give it up to 3 s to arrive before stopping ends the sessions locally.
  for (let waited = 0; silent && silent.ends.length < silent.invites && waited < 3000; waited += 50) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const result = { invites: silent?.invites ?? 0, ends: silent?.ends ?? [] };
  await silent?.peer.stop();
  await silent?.server.close();
  silent = undefined;
  return result;
}

async function conferenceOp(server, q) {
  const backend = server.conferences.backend;
  if (!backend) return { status: 503, body: { error: { code: 'service-unavailable' } } };
  const id = String(q.id ?? '');
  try {
    if (q.op === 'room') return { status: 200, body: await backend.getRoom(id) };
    if (q.op === 'callout') return { status: 201, body: await backend.addParticipant(id, { userId: String(q.userId ?? '') }) };
    if (q.op === 'remove') return { status: 204, body: await backend.removeParticipant(id, String(q.userId ?? '')) ?? null };
    if (q.op === 'mute') return { status: 200, body: await backend.setMuted(id, String(q.userId ?? ''), q.muted === 'true') };
    return { status: 400, body: { error: { code: 'unknown-op' } } };
  } catch (err) {
    return { status: err?.status ?? 500, body: { error: { code: err?.code ?? 'internal', message: String(err?.message ?? err) } } };
  }
}

async function testToken(server, query) {
  const userId = String(query.userId ?? '');
  const variant = String(query.variant ?? '');
  const ttl = Number(query.ttl ?? 3600);
  const now = Math.floor(Date.now() / 1000);
  const sign = (key, sub, exp) => new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuer('calling-elements').setJti(crypto.randomUUID())
    .setIssuedAt().setExpirationTime(exp).sign(new TextEncoder().encode(key));
  if (variant === 'forged') return { token: await sign('not-the-server-secret-but-just-as-long!!', userId, now + 600) };
  if (variant === 'expired') return { token: await sign(server.secret, userId, now - 10) };
  if (variant === 'other-subject') return { token: await sign(server.secret, `${userId}-other`, now + 600) };
  if (variant === 'user-style') return { token: await sign(server.secret, userId, now + 600) };
  if (ttl !== 3600) {
    const { mintUserToken } = await import('../../src/server/auth/tokens.ts');
    const { token, expiresAt } = await mintUserToken(server.secret, userId, ttl);
    return { token, expiresAt: new Date(expiresAt).toISOString() };
  }
  return { token: await server.mintToken(userId) };
}

// peerjs and howler ship CommonJS internals that do not load as bare ESM in the browser: bundle them once.
const BUNDLED = {
  peerjs: "export * from 'peerjs';",
  howler: "export { Howl, Howler } from 'howler';",
};

export function bundledDepsPlugin() {
  const cache = new Map();
  return {
    name: 'bundled-deps',
    resolveImport({ source }) {
      if (source in BUNDLED) return `/__deps/${source}.js`;
    },
    async serve(context) {
      const m = /^\/__deps\/([a-z]+)\.js$/.exec(context.path);
      if (!m || !(m[1] in BUNDLED)) return;
      if (!cache.has(m[1])) {
        const out = await build({
          stdin: { contents: BUNDLED[m[1]], resolveDir: process.cwd(), loader: 'js' },
          bundle: true,
          format: 'esm',
          write: false,
          platform: 'browser',
          alias: browserAliases,
          plugins: [peerjsFixPlugin],
          logLevel: 'silent',
        });
        cache.set(m[1], out.outputFiles[0].text);
      }
      return { body: cache.get(m[1]), type: 'js' };
    },
  };
}

/**
 * `open-page` / `page-eval` / `close-page`: real extra tabs in the same browser, driven from a test.
 * `page-eval` evaluates an async function body in the page and returns its JSON result.
 */
export function pagesPlugin() {
  const pages = new Map();
  let next = 1;
  return {
    name: 'pages',
    async executeCommand({ command, payload, session }) {
      if (command === 'open-page') {
        const testPage = session.browser.getPage(session.id);
        const page = await testPage.browserContext().newPage();
        page.on('pageerror', (e) => console.error(`[page ${payload.path}] ${e.message}`));
        const origin = new URL(testPage.url()).origin;
        await page.goto(origin + payload.path);
        const id = String(next++);
        pages.set(id, page);
        return id;
      }
      if (command === 'page-eval') {
        const page = pages.get(payload.id);
        if (!page) throw new Error(`no page ${payload.id}`);
        return page.evaluate(`(async () => { ${payload.body} })()`);
      }
      if (command === 'close-page') {
        const page = pages.get(payload.id);
        pages.delete(payload.id);
        // As a user closing the tab: no beforeunload prompt, but pagehide runs (a test blocks it to model a crash).
        await page?.close({ runBeforeUnload: false });
        return true;
      }
    },
  };
}

/**
 * `page-visibility` / `page-permissions`: the test page's own window and permissions, for tests of what happens
 * in the background. `page-visibility { hidden }` minimizes (or restores) the page's window, which makes
 * `document.visibilityState` really `hidden`; `page-permissions { grant }` overrides the origin's permissions
 * (everything not granted is denied), `{ clear: true }` removes the override. `page-block { part }` makes the page's
 * requests whose URL contains `part` fail as a network error would (a lazy chunk that cannot load); `{}` lets all through.
 */
export function pageStatePlugin() {
  const blocking = new WeakMap();
  return {
    name: 'page-state',
    async executeCommand({ command, payload, session }) {
      if (command !== 'page-visibility' && command !== 'page-permissions' && command !== 'page-block') return;
      const page = session.browser.getPage(session.id);
      if (command === 'page-block') {
        if (blocking.has(page)) page.off('request', blocking.get(page));
        blocking.delete(page);
        if (payload.part) {
          const onRequest = (req) => (req.url().includes(payload.part) ? req.abort('internetdisconnected') : req.continue());
          blocking.set(page, onRequest);
          page.on('request', onRequest);
        }
        await page.setRequestInterception(!!payload.part);
        return true;
      }
      if (command === 'page-visibility') {
        const cdp = await page.createCDPSession();
        try {
          const { windowId } = await cdp.send('Browser.getWindowForTarget');
          await cdp.send('Browser.setWindowBounds', { windowId, bounds: { windowState: payload.hidden ? 'minimized' : 'normal' } });
        } finally {
          await cdp.detach();
        }
        return true;
      }
      const context = page.browserContext();
      if (payload.clear) await context.clearPermissionOverrides();
      else await context.overridePermissions(new URL(page.url()).origin, payload.grant ?? []);
      return true;
    },
  };
}

/**
 * `turn-server` ({ action: 'start' | 'pause' | 'resume' | 'restart' | 'stop', downMs }): a real TURN relay (coturn,
 * Debian) on 127.0.0.1. Clients that relay all media through it lose their media path while it is paused (SIGSTOP)
 * and get it back when it resumes: a network cut without touching anything else on the machine. `restart` kills it
 * and starts a new one on the same port after `downMs`: every allocation is lost, so only an ICE restart (fresh relay
 * candidates) brings the media back.
 */
export function turnPlugin() {
  let proc;
  let port;
  const user = 'calling';
  const password = 'elements';
  const launch = async () => {
    proc = spawn('turnserver', [
      '-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`, '--min-port=49200', '--max-port=49400',
      '--no-tls', '--no-dtls', '--no-cli', '--lt-cred-mech', `--user=${user}:${password}`, '--realm=calling-elements',
      '--allow-loopback-peers', '--no-multicast-peers', '--log-file=stdout', '--simple-log',
    ], { stdio: 'ignore' });
    await turnReady(port);
  };
  const kill = async () => {
    const dying = proc;
    proc = undefined;
    if (!dying || dying.exitCode !== null || dying.signalCode !== null) return;
    const exited = new Promise((r) => dying.once('exit', r));
    dying.kill('SIGCONT');
    dying.kill('SIGKILL');
    await exited;
  };
  return {
    name: 'turn-server',
    async serverStop() {
      proc?.kill('SIGKILL');
    },
    async executeCommand({ command, payload }) {
      if (command !== 'turn-server') return undefined;
      if (payload.action === 'start' && !proc) {
        port = await freePort();
        await launch();
      }
      if (payload.action === 'pause') proc?.kill('SIGSTOP');
      if (payload.action === 'resume') proc?.kill('SIGCONT');
      if (payload.action === 'restart' && proc) {
        await kill();
        await new Promise((r) => setTimeout(r, payload.downMs ?? 0));
        await launch();
      }
      if (payload.action === 'stop') await kill();
      // A non-null answer even after 'stop': WTR treats null as "no plugin handled this command".
      return proc ? { urls: `turn:127.0.0.1:${port}?transport=udp`, username: user, credential: password } : { stopped: true };
    },
  };
}


function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}
