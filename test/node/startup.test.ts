// `npm start`'s safe defaults off localhost, each one line an operator sees: the real main.ts as a child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMain } from '../support/start-main.js';
import { stunAnswers } from '../../src/server/turn/stun.js';

const SECRET = 'x'.repeat(40);

test('a non-loopback HOST without CALLING_SECRET refuses to start, in one line', async () => {
  const main = startMain({ HOST: '0.0.0.0' });
  assert.equal(await main.exited, 1);
  const lines = main.stderr().trim().split('\n');
  assert.equal(lines.length, 1, main.stderr());
  assert.match(lines[0]!, /HOST=0\.0\.0\.0 .*set CALLING_SECRET.*CALLING_DEMO=1/);
  assert.doesNotMatch(main.stdout(), /calling-elements server/);
});

test('CALLING_DEMO=1 starts demo mode on a non-loopback HOST on purpose, with the plain-HTTP warning', async () => {
  const main = startMain({ HOST: '0.0.0.0', CALLING_DEMO: '1' });
  try {
    await main.waitFor(/calling-elements server: http:\/\/0\.0\.0\.0:\d+/);
    const warnings = main.stderr().split('\n').filter((l) => /plain HTTP/.test(l));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^Warning: plain HTTP on HOST=0\.0\.0\.0: browsers refuse the microphone/);
  } finally {
    await main.stop();
  }
});

test('TRUST_PROXY=1 on a non-loopback HOST with a secret: no plain-HTTP warning', async () => {
  const main = startMain({ HOST: '0.0.0.0', CALLING_SECRET: SECRET, TRUST_PROXY: '1' });
  try {
    await main.waitFor(/calling-elements server: /);
    assert.doesNotMatch(main.stderr(), /plain HTTP|DEMO MODE/);
  } finally {
    await main.stop();
  }
});

test('on loopback nothing changes: no warning, demo mode allowed', async () => {
  const main = startMain({ HOST: '127.0.0.1' });
  try {
    await main.waitFor(/calling-elements server: http:\/\/localhost:\d+/);
    assert.doesNotMatch(main.stderr(), /plain HTTP/);
  } finally {
    await main.stop();
  }
});

for (const [name, env, line] of [
  ['a missing TLS_CERT', { TLS_CERT: '/nonexistent/cert.pem', TLS_KEY: '/nonexistent/key.pem' }, /^TLS certificate \/nonexistent\/cert\.pem cannot be read \(ENOENT\)\.$/],
  ['an unreadable TLS_KEY (a directory)', { TLS_CERT: '/etc/hostname', TLS_KEY: '/tmp' }, /^TLS key \/tmp cannot be read \(EISDIR\)\.$/],
  ['a TLS_CERT that is not PEM', { TLS_CERT: '/etc/hostname', TLS_KEY: '/etc/hostname' }, /^TLS_CERT \/ TLS_KEY are not a usable PEM certificate and key: /],
  ['TLS_CERT without TLS_KEY', { TLS_CERT: '/etc/hostname' }, /^Set both TLS_CERT and TLS_KEY/],
] as const) {
  test(`${name} stops startup with one clear line`, async () => {
    const main = startMain({ ...env });
    assert.equal(await main.exited, 1);
    const lines = main.stderr().trim().split('\n');
    assert.equal(lines.length, 1, main.stderr());
    assert.match(lines[0]!, line);
  });
}

test('TURN=embedded without coturn installed says so in one line', async () => {
  const main = startMain({ TURN: 'embedded', PATH: '/nonexistent' });
  assert.equal(await main.exited, 1);
  assert.equal(main.stderr().trim(), 'TURN=embedded needs coturn, and its turnserver binary is not installed (Debian: apt-get install coturn).');
});

test('a TURN_URLS entry that is not a TURN URI stops startup with one line', async () => {
  const main = startMain({ TURN_URLS: 'turn:ok.example:3478,https://turn.example', TURN_SECRET: 's'.repeat(20) });
  assert.equal(await main.exited, 1);
  assert.equal(main.stderr().trim(), 'TURN_URLS: "https://turn.example" is not a turn: or turns: URI (e.g. turn:turn.example.com:3478?transport=udp).');
});

test('TURN=embedded runs its own coturn on TURN_PORT and stops it on SIGTERM', async () => {
  const turnPort = 37_000 + Math.floor(Math.random() * 1000);
  const main = startMain({ TURN: 'embedded', TURN_PORT: String(turnPort), TURN_MIN_PORT: String(turnPort + 1), TURN_MAX_PORT: String(turnPort + 10) });
  try {
    const m = await main.waitFor(/TURN: turn:127\.0\.0\.1:(\d+)\?transport=udp, turn:\S+\?transport=tcp \(embedded coturn, pid (\d+)\), credentials for 3600 s/);
    assert.equal(Number(m[1]), turnPort);
    const pid = Number(m[2]);
    assert.equal(await stunAnswers('127.0.0.1', turnPort), true);
    await main.stop();
    assert.throws(() => process.kill(pid, 0), /ESRCH/, 'coturn is gone with the server');
  } finally {
    await main.stop();
  }
});

test('TURN=embedded on HOST=0.0.0.0 asks for the name browsers use, and TURN_HOST gives it', async () => {
  const turnPort = 38_000 + Math.floor(Math.random() * 1000);
  const env = { HOST: '0.0.0.0', CALLING_SECRET: SECRET, TRUST_PROXY: '1', TURN: 'embedded', TURN_PORT: String(turnPort), TURN_MIN_PORT: String(turnPort + 1), TURN_MAX_PORT: String(turnPort + 10) };
  const nameless = startMain(env);
  assert.equal(await nameless.exited, 1);
  assert.equal(nameless.stderr().trim(), `TURN=embedded with HOST=0.0.0.0: set TURN_HOST to the name browsers reach this server by, or TURN_URLS (e.g. turn:calling.example.com:${turnPort}?transport=udp,turn:calling.example.com:${turnPort}?transport=tcp).`);
  const named = startMain({ ...env, TURN_HOST: 'calling.example.com' });
  try {
    const m = await named.waitFor(/TURN: (.*) \(embedded coturn/);
    assert.equal(m[1], `turn:calling.example.com:${turnPort}?transport=udp, turn:calling.example.com:${turnPort}?transport=tcp`);
  } finally {
    await named.stop();
  }
});
