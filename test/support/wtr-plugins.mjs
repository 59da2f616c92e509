// Dev-server plugins for the browser tests: a real calling server per run, CommonJS dependencies bundled to ESM,
// and commands that open and drive extra real pages (a second user in its own tab).
import { build } from 'esbuild';
import { startCallingServer } from '../../src/server/calling-server.ts';
import { browserAliases } from '../../scripts/aliases.mjs';

/** Starts a calling server on 127.0.0.1 (random port) for the run; pages read `/__calling-config`. */
export function callingServerPlugin() {
  let server;
  return {
    name: 'calling-server',
    async serverStart() {
      server = await startCallingServer({ port: 0, host: '127.0.0.1', serveDemo: false });
    },
    async serverStop() {
      await server?.close();
    },
    serve(context) {
      if (context.path === '/__calling-config') {
        return { body: JSON.stringify({ server: server.url }), type: 'json' };
      }
    },
  };
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
        // runBeforeUnload false: like a tab crash or kill, the page gets no chance to say goodbye.
        await page?.close({ runBeforeUnload: false });
        return true;
      }
    },
  };
}
