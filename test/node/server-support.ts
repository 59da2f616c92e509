// Shared helpers for the server tests: raw PeerJS-protocol WebSocket clients and hand-made tokens.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import type { CallingServer } from '../../src/server/calling-server.js';

export interface Received {
  first: { type: string; payload?: { msg?: string } } | undefined;
  code: number | undefined;
}

/** Opens a signalling socket the way PeerJS does and reports its first message (and close code if it closes). */
export async function handshake(server: CallingServer, id: string, token: string | undefined): Promise<{ ws: WebSocket; first: Received['first']; closed: Promise<number> }> {
  const q = new URLSearchParams({ key: 'peerjs', id, ...(token === undefined ? {} : { token }), version: '1.5.5' });
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/peerjs/peerjs?${q}`);
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  const first = await new Promise<Received['first']>((resolve, reject) => {
    ws.once('message', (d) => resolve(JSON.parse(d.toString()) as Received['first']));
    ws.once('error', reject);
    ws.once('close', () => resolve(undefined));
  });
  return { ws, first, closed };
}

/** A raw signalling client: sends PeerJS messages and collects what it receives. */
export class RawPeer {
  readonly inbox: Array<{ type: string; src?: string; payload?: unknown }> = [];
  private constructor(readonly id: string, readonly ws: WebSocket) {
    ws.on('message', (d) => this.inbox.push(JSON.parse(d.toString()) as RawPeer['inbox'][number]));
  }

  static async connect(server: CallingServer, id: string, token: string): Promise<RawPeer> {
    const { ws, first } = await handshake(server, id, token);
    if (first?.type !== 'OPEN') throw new Error(`${id} was refused: ${JSON.stringify(first)}`);
    return new RawPeer(id, ws);
  }

  send(type: string, dst: string | undefined, payload: unknown): void {
    this.ws.send(JSON.stringify({ type, ...(dst === undefined ? {} : { dst }), payload }));
  }

  async waitFor(pred: (m: RawPeer['inbox'][number]) => boolean, ms = 5000): Promise<RawPeer['inbox'][number]> {
    const end = Date.now() + ms;
    for (;;) {
      const m = this.inbox.find(pred);
      if (m) return m;
      if (Date.now() > end) throw new Error(`${this.id}: no matching message within ${ms} ms`);
      await sleep(10);
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/** A token signed with an arbitrary key and claims, for the refusal cases. */
export function craftToken(key: string, claims: { sub: string; exp: number; jti?: string; iss?: string; svc?: boolean }): Promise<string> {
  return new SignJWT(claims.svc ? { svc: true } : {})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuer(claims.iss ?? 'calling-elements')
    .setJti(claims.jti ?? crypto.randomUUID())
    .setIssuedAt()
    .setExpirationTime(claims.exp)
    .sign(new TextEncoder().encode(key));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until `pred()` is truthy. Generous timeouts: this machine is shared. */
export async function eventually<T>(pred: () => T | undefined | null | false | Promise<T | undefined | null | false>, ms = 5000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A temporary folder, removed by the returned function. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'calling-test-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function basic(key: { key: string; secret: string }): string {
  return `Basic ${Buffer.from(`${key.key}:${key.secret}`).toString('base64')}`;
}
