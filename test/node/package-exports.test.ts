// The package as a bundler user gets it: exports that resolve to built files with types, a core without Lit,
// element modules that register their tag only when asked, and a self-contained bundle.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { build, type Metafile } from 'esbuild';

const root = resolve('.');
interface Pkg { exports: Record<string, string | Record<string, string>>; sideEffects: string[]; module: string; main: string; types: string }
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as Pkg;
const TAGS = ['call-provider', 'call-dialer', 'incoming-call', 'video-view', 'call-controls', 'call-status', 'call-widget'];

// A throwaway project with this package installed (a symlink), so that resolution goes through `exports`.
let project = '';
before(() => {
  if (!existsSync('dist/lib/index.js') || !existsSync('dist/types/index.d.ts') || !existsSync('dist/calling-elements.js')) {
    execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'ignore' });
  }
  project = mkdtempSync(join(tmpdir(), 'calling-elements-user-'));
  mkdirSync(join(project, 'node_modules'));
  symlinkSync(root, join(project, 'node_modules', 'calling-elements'), 'dir');
});
after(() => rmSync(project, { recursive: true, force: true }));

async function bundle(code: string): Promise<{ inputs: string[]; text: string }> {
  const entry = join(project, `entry-${Math.random().toString(36).slice(2)}.js`);
  writeFileSync(entry, code);
  const out = await build({
    entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', write: false, metafile: true,
    // Its dependencies resolve from our node_modules, as they would from the user's.
    nodePaths: [join(root, 'node_modules')], logLevel: 'silent',
  });
  return { inputs: Object.keys((out.metafile as Metafile).inputs), text: out.outputFiles[0]!.text };
}

test('every export resolves to a built file, with a .d.ts beside each module entry', () => {
  const subpaths = Object.keys(pkg.exports);
  for (const want of ['.', './core', './context', './bundle', './custom-elements.json', ...TAGS.map((t) => `./${t}`)]) {
    assert.ok(subpaths.includes(want), `exports has ${want}`);
  }
  if (!existsSync('custom-elements.json')) execFileSync(process.execPath, ['node_modules/@custom-elements-manifest/analyzer/cem.js', 'analyze', '--config', 'custom-elements-manifest.config.mjs', '--quiet']);
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const files = typeof target === 'string' ? [target] : Object.values(target);
    for (const file of files) assert.ok(existsSync(file), `${subpath} → ${file} exists`);
    if (typeof target !== 'string') assert.ok(target.types?.endsWith('.d.ts'), `${subpath} has types`);
  }
  for (const file of [pkg.main, pkg.module, pkg.types]) assert.ok(existsSync(file), file);
});

test('calling-elements/core brings no Lit and registers no element', async () => {
  const { inputs, text } = await bundle("import { CallClient } from 'calling-elements/core'; console.log(CallClient);");
  assert.ok(inputs.some((i) => i.includes('dist/lib/core/call-client.js')), 'core from dist/lib');
  assert.deepEqual(inputs.filter((i) => /node_modules\/(lit|@lit|lit-html|lit-element)\//.test(i) || i.includes('dist/lib/elements')), []);
  assert.ok(!text.includes('customElements.define'));
});

test('the core tree-shakes: a lone CallingError brings neither PeerJS nor Howler', async () => {
  const { text } = await bundle("import { CallingError } from 'calling-elements/core'; console.log(new CallingError('api', 'x', 'y'));");
  assert.doesNotMatch(text, /0\.peerjs\.com|howler/i);
  assert.ok(text.length < 20_000, `${text.length} bytes`);
});

test('the main entry registers every tag (for `import "calling-elements"`)', async () => {
  const { text } = await bundle("import 'calling-elements';");
  for (const tag of TAGS) assert.match(text, new RegExp(`defineElement\\("${tag}"`), tag);
});

test('an element module registers its tag; its class module registers nothing', async () => {
  const defining = await bundle("import 'calling-elements/call-dialer';");
  assert.match(defining.text, /defineElement\("call-dialer"/);
  const classOnly = await bundle("import { CallDialerElement } from 'calling-elements/call-dialer/class'; console.log(CallDialerElement);");
  assert.doesNotMatch(classOnly.text, /defineElement\("call-/);
  const widget = await bundle("import 'calling-elements/call-widget';");
  for (const tag of TAGS) assert.match(widget.text, new RegExp(`defineElement\\("${tag}"`), `the widget registers ${tag}`);
});

test('sideEffects lists only the modules that define tags (or their lazy loaders) or register translations', () => {
  for (const pattern of pkg.sideEffects) {
    assert.match(pattern, /((define|loader)\.(js|ts)|translations\/\*\.(js|ts)|\/index\.(js|ts)|calling-elements\.js)$/, pattern);
  }
  // No core module has a side effect at import: nothing under core is listed.
  assert.ok(!pkg.sideEffects.some((p) => p.includes('/core/')));
});

test('dist/calling-elements.js is self-contained: it imports only its own chunks, relative to its URL', () => {
  const importsOf = (file: string) => {
    const js = readFileSync(file, 'utf8');
    return [...js.matchAll(/\bimport\s*(?:[\w${}*,\s]*?from\s*)?\(?\s*["']([^"']+)["']/g)].map((m) => m[1]!);
  };
  const seen = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of importsOf(file)) {
      // A bare or absolute specifier would break the one-script-tag embed from another origin or a CDN.
      assert.match(spec, /^\.\.?\//, `${file} imports ${spec}`);
      const target = join(dirname(file), spec);
      assert.ok(existsSync(target), `${file} imports ${spec}, which the build wrote`);
      walk(target);
    }
  };
  walk('dist/calling-elements.js');
  assert.ok(seen.size > 1, 'the bundle loads PeerJS and Howler as chunks');
  const js = readFileSync('dist/calling-elements.js', 'utf8');
  for (const tag of TAGS) assert.ok(js.includes(`"${tag}"`), `bundle defines ${tag}`);
});
