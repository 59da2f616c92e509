// The Storybook smoke test (`npm test` runs it after `npm run build-storybook`): serves storybook-static on
// 127.0.0.1, opens every story in headless Chromium in both themes (light + English, dark + Swedish) and fails on
// any console error, uncaught exception, Storybook error screen or axe-core violation. Prints one line per story.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';

const root = join(process.cwd(), 'storybook-static');
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml', '.woff2': 'font/woff2', '.png': 'image/png' };
const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
  try {
    const body = await readFile(join(root, path.endsWith('/') ? `${path}index.html` : path));
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;

const index = JSON.parse(await readFile(join(root, 'index.json'), 'utf8'));
const stories = Object.values(index.entries).filter((e) => e.type === 'story');
const axeSource = await readFile(join(process.cwd(), 'node_modules/axe-core/axe.min.js'), 'utf8');
const only = process.env.STORY ? new RegExp(process.env.STORY) : null;
const looks = [{ globals: 'theme:light;lang:en', label: 'light/en' }, { globals: 'theme:dark;lang:sv', label: 'dark/sv' }];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });

async function check(story, look) {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`exception: ${e.message}`));
  page.on('requestfailed', (r) => { if (!r.url().startsWith(origin)) problems.push(`left 127.0.0.1: ${r.url()}`); });
  // Nothing may leave this machine.
  await page.route((url) => !url.href.startsWith(origin) && !url.href.startsWith('data:') && !url.href.startsWith('blob:'), (route) => {
    problems.push(`request outside 127.0.0.1: ${route.request().url()}`);
    return route.abort();
  });
  try {
    await page.goto(`${origin}/iframe.html?id=${encodeURIComponent(story.id)}&viewMode=story&globals=${look.globals}`);
    await page.waitForFunction(() => {
      const body = document.body;
      return body.classList.contains('sb-show-errordisplay') || (document.querySelector('#storybook-root')?.childElementCount ?? 0) > 0;
    }, undefined, { timeout: 15_000 });
    // Play functions, scripted rings (400 ms) and renders settle.
    await page.waitForTimeout(700);
    if (await page.evaluate(() => document.body.classList.contains('sb-show-errordisplay'))) {
      problems.push(`storybook error: ${(await page.textContent('#error-message').catch(() => '')) ?? ''}`.trim());
    }
    await page.addScriptTag({ content: axeSource });
    const violations = await page.evaluate(async () => {
      const result = await window.axe.run(document.querySelector('#storybook-root'), { resultTypes: ['violations'] });
      return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' > ')).join(' | ')}`);
    });
    problems.push(...violations.map((v) => `axe: ${v}`));
  } catch (err) {
    problems.push(`failed to render: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await page.close();
  }
  return problems;
}

let failed = 0;
let passed = 0;
const queue = stories.filter((s) => !only || only.test(s.id)).flatMap((s) => looks.map((l) => [s, l]));
async function worker() {
  for (let item = queue.shift(); item; item = queue.shift()) {
    const [story, look] = item;
    const problems = await check(story, look);
    if (problems.length) {
      failed++;
      console.log(`✗ ${story.id} [${look.label}]\n${problems.map((p) => `    ${p}`).join('\n')}`);
    } else {
      passed++;
      console.log(`✓ ${story.id} [${look.label}]`);
    }
  }
}
await Promise.all([worker(), worker()]);
await browser.close();
server.close();
console.log(`storybook: ${stories.length} stories, ${passed + failed} renders`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
