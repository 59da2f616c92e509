// custom-elements.json: generated from the elements' JSDoc by `npm run build` (or `npm run manifest`), and complete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

interface Named { name: string; description?: string }
interface Declaration {
  kind: string; name: string; tagName?: string; customElement?: boolean; summary?: string; description?: string;
  attributes?: Named[]; members?: Array<Named & { kind: string; privacy?: string }>; events?: Named[];
  slots?: Named[]; cssParts?: Named[]; cssProperties?: Named[];
}
interface Manifest { schemaVersion: string; modules: Array<{ path: string; declarations?: Declaration[]; exports?: Array<{ kind: string; name: string }> }> }

function manifest(): Manifest {
  if (!existsSync('custom-elements.json')) {
    execFileSync(process.execPath, ['node_modules/@custom-elements-manifest/analyzer/cem.js', 'analyze', '--config', 'custom-elements-manifest.config.mjs', '--quiet']);
  }
  return JSON.parse(readFileSync('custom-elements.json', 'utf8')) as Manifest;
}

const EXPECTED: Record<string, { events: string[]; attributes: string[]; file: string }> = {
  'call-provider': { events: ['call-connection-change', 'call-change'], attributes: ['server', 'user-id', 'display-name', 'token', 'token-url', 'theme'], file: 'src/elements/call-provider/call-provider.ts' },
  'call-dialer': { events: ['call-dial', 'call-dial-error'], attributes: ['mode', 'modes', 'video', 'theme'], file: 'src/elements/call-dialer/call-dialer.ts' },
  'incoming-call': { events: ['call-answer', 'call-decline'], attributes: ['open', 'theme'], file: 'src/elements/incoming-call/incoming-call.ts' },
  'video-view': { events: [], attributes: ['source', 'fit', 'theme'], file: 'src/elements/video-view/video-view.ts' },
  'call-controls': { events: ['call-hangup', 'call-dtmf'], attributes: ['theme'], file: 'src/elements/call-controls/call-controls.ts' },
  'call-status': { events: [], attributes: ['theme'], file: 'src/elements/call-status/call-status.ts' },
  'call-history': { events: ['call-history-load', 'call-history-dial', 'call-dial-error'], attributes: ['limit', 'theme'], file: 'src/elements/call-history/call-history.ts' },
  'call-widget': {
    events: ['call-widget-toggle'],
    attributes: ['server', 'user-id', 'display-name', 'token-url', 'theme', 'lang', 'position', 'modes', 'video', 'open'],
    file: 'src/elements/call-widget/call-widget.ts',
  },
};

const elements = () => new Map(manifest().modules.flatMap((m) => m.declarations ?? []).filter((d) => d.tagName).map((d) => [d.tagName!, d]));

test('package.json points tools at the manifest, which lists exactly the eight tags', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { customElements?: string; files?: string[] };
  assert.equal(pkg.customElements, 'custom-elements.json');
  assert.ok(pkg.files?.includes('custom-elements.json'), 'published with the package');
  assert.deepEqual([...elements().keys()].sort(), Object.keys(EXPECTED).sort());
});

test('every element has a summary, its attributes, its events (described) and CSS parts and properties', () => {
  const els = elements();
  for (const [tag, want] of Object.entries(EXPECTED)) {
    const d = els.get(tag);
    assert.ok(d, tag);
    assert.ok(d.customElement, `${tag}: customElement`);
    assert.ok((d.summary ?? '').length > 20, `${tag}: summary`);
    const attrs = (d.attributes ?? []).map((a) => a.name);
    for (const a of want.attributes) assert.ok(attrs.includes(a), `${tag}: attribute ${a} (has ${attrs.join(', ')})`);
    const events = (d.events ?? []).map((e) => e.name);
    for (const e of want.events) assert.ok(events.includes(e), `${tag}: event ${e} (has ${events.join(', ')})`);
    for (const e of d.events ?? []) assert.ok(e.description, `${tag}: event ${e.name} is described`);
    assert.ok((d.cssParts ?? []).length > 0, `${tag}: css parts`);
    assert.ok((d.cssProperties ?? []).length > 0, `${tag}: css properties`);
  }
  assert.deepEqual((elements().get('call-provider')?.slots ?? []).map((s) => s.name), ['']);
});

test('every part an element renders is documented in the manifest', () => {
  const els = elements();
  for (const [tag, { file }] of Object.entries(EXPECTED)) {
    const source = readFileSync(file, 'utf8');
    const rendered = new Set<string>();
    for (const m of source.matchAll(/\bpart=(?:"([^"$]+)"|'([^'$]+)')/g)) for (const p of (m[1] ?? m[2] ?? '').split(/\s+/)) rendered.add(p);
    const documented = new Set((els.get(tag)?.cssParts ?? []).map((p) => p.name));
    for (const p of rendered) assert.ok(documented.has(p), `${tag}: part "${p}" is rendered but not documented (@csspart)`);
  }
});

test('each tag is defined by a module the manifest names (custom-element-definition exports)', () => {
  const defs = manifest().modules.flatMap((m) => (m.exports ?? []).filter((e) => e.kind === 'custom-element-definition').map((e) => [e.name, m.path]));
  assert.deepEqual(defs.map(([tag]) => tag).sort(), Object.keys(EXPECTED).sort());
  for (const [tag, path] of defs) assert.equal(path, `src/elements/${tag}/define.ts`);
});
