// Dependencies the server relies on beyond their public API. `peer` is pinned to the exact version whose internals
// src/server/auth/signalling-auth.ts depends on; this test fails when an upgrade changes them, so the upgrade is
// reviewed instead of silently letting malformed frames or unrewritten messages through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const require = createRequire(import.meta.url);

test('peer is pinned to the exact installed version', () => {
  const installed = (JSON.parse(readFileSync(join(root, 'node_modules/peer/package.json'), 'utf8')) as { version: string }).version;
  assert.equal(pkg.dependencies.peer, installed, 'package.json names the exact version (no ^ or ~)');
});

test('peer still has the internals the signalling server relies on', () => {
  // Both builds (ESM for tsx/Node, CJS for tools) must keep them.
  const dist = dirname(require.resolve('peer'));
  for (const file of ['module.mjs', 'index.cjs']) {
    const src = readFileSync(join(dist, file), 'utf8').replace(/\s+/g, ' ');
    // 1. The createWebSocketServer hook builds the socket server (token checks at the handshake).
    assert.match(src, /config\.createWebSocketServer \? config\.createWebSocketServer\(options\)/, `${file}: createWebSocketServer hook`);
    // 2. Client frames are read through the ws 'message' event (dropMalformedFrames patches ws.emit to filter it).
    assert.match(src, /socket\.on\("message", \(data\)=>\{ try \{ (?:\/\/[^}]*?)?const message = JSON\.parse\(data\.toString\(\)\); message\.src = client\.getId\(\); this\.emit\("message", client, message\);/, `${file}: frames via ws 'message', src stamped, then emitted`);
    // 3. The app's 'message' listener sees each message before the relay, as the same object (the rewriting of
    //    `src` for plain-id routes and the DEVICES / TOKEN handling happen there).
    assert.match(src, /wss\.on\("message", \(client, message\)=>\{ app\.emit\("message", client, message\); messageHandler\.handle\(client, message\); \}\)/, `${file}: app listener before the relay`);
  }
});

test('the unmaintained npm sip package is not a dependency, and nothing imports it', () => {
  assert.equal(pkg.dependencies.sip, undefined);
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
  for (const file of walk(join(root, 'src'))) assert.doesNotMatch(readFileSync(file, 'utf8'), /from ['"]sip(\/[^'"]*)?['"]|require\(['"]sip/, file);
});
