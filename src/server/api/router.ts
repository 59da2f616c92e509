/**
 * The REST API under `/api/v1`: JSON in and out, HTTP Basic auth with an application key and secret (separate from
 * user tokens), zod-validated input (400 names the field), per-key rate limiting (429 + `Retry-After`), 404 for
 * unknown routes, and errors as `{ "error": { "code", "message", "field"? } }` — never a stack trace.
 *
 * Every route is declared once in `ROUTES`, which both registers it and describes it in the OpenAPI 3.1 document
 * served at `/api/v1/openapi.json`. That one document also describes the conference routes (`/api/v1/conferences`,
 * mounted in front of this router by `src/server/conference`), from the validators they use.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { CallingError } from '../../core/errors.js';
import { assertUserId, E164 } from '../../core/validation.js';
import { isPossiblePhoneNumber, PHONE_NUMBER_RULE } from '../phone-numbers.js';
import { userOfPeer } from '../../core/devices.js';
import { DEFAULT_TOKEN_TTL_SECONDS, MAX_TOKEN_TTL_SECONDS, mintUserToken } from '../auth/tokens.js';
import type { CallRecorder } from '../storage/call-recorder.js';
import type { CallingStorage } from '../storage/store.js';
import { RateLimiter, type RateLimitOptions } from './rate-limit.js';
import { conferenceOpenApiPaths } from '../conference/openapi.js';

/** An application key: `app` keys use the API; `admin` keys may also top up accounts and edit the rate table. */
export interface ApiKey {
  key: string;
  secret: string;
  role: 'app' | 'admin';
}

export interface ApiOptions {
  store: CallingStorage;
  recorder: CallRecorder;
  /** The signalling secret, to mint user tokens. */
  secret: string;
  keys: readonly ApiKey[];
  /** Per key. Default 20 requests/s, bursts of 40. */
  rateLimit?: RateLimitOptions;
  /**
   * Where the per-key limit is counted (default: in this process, a `RateLimiter` with `rateLimit`). Several nodes
   * pass one that counts in Redis, so a key's limit holds across the cluster.
   */
  limiter?: { take(key: string): number | Promise<number> };
  /** The peer ids online (default: the recorder's, this node's). Several nodes pass the cluster's list. */
  onlinePeers?: () => Iterable<string> | Promise<Iterable<string>>;
}

// --- schemas --------------------------------------------------------------------------------------------------------

const userId = z.string().min(1).max(64).regex(/^[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*$/, 'letters, digits and single - or _ between them')
  .refine((v) => {
    try {
      assertUserId(v);
      return true;
    } catch {
      return false;
    }
  }, 'this user id is reserved for the calling service');
// The server's one phone-number rule (src/server/phone-numbers.ts); the pattern stays for the OpenAPI document.
const e164 = z.string().regex(E164, PHONE_NUMBER_RULE).refine(isPossiblePhoneNumber, PHONE_NUMBER_RULE);
const prefix = z.string().regex(/^[1-9][0-9]{0,14}$/, 'a country (or longer) prefix of digits, without +');
const limit = z.coerce.number().int().min(1).max(100).default(20);
const offset = z.coerce.number().int().min(0).max(1_000_000).default(0);

const schemas = {
  tokenRequest: z.object({
    userId,
    ttlSeconds: z.int().min(60).max(MAX_TOKEN_TTL_SECONDS).optional(),
  }).strict(),
  topUpRequest: z.object({
    amount: z.int().min(1).max(1_000_000_000),
    reason: z.string().min(1).max(200).optional(),
  }).strict(),
  rateRequest: z.object({
    perMinute: z.int().min(0).max(1_000_000),
    description: z.string().max(200).optional(),
  }).strict(),
  phoneCheckRequest: z.object({ userId, number: e164 }).strict(),
  userParams: z.object({ userId }),
  prefixParams: z.object({ prefix }),
  callParams: z.object({ callId: z.string().min(1).max(128) }),
  pageQuery: z.object({ limit, offset }).strict(),
  callsQuery: z.object({ user: z.string().min(1).max(128).optional(), limit, offset }).strict(),
};

// --- errors ---------------------------------------------------------------------------------------------------------

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string) {
    super(message);
  }
}

function parse<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'path'): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const key = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const field = [...issue.path.map(String), ...(key ? [key] : [])].join('.') || where;
  const message = issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message;
  throw new HttpError(400, 'invalid-request', `${field}: ${message}`, field);
}

function sendError(res: Response, err: HttpError): void {
  res.status(err.status).json({ error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } });
}

// --- routes ---------------------------------------------------------------------------------------------------------

type Method = 'get' | 'post' | 'put' | 'delete';
interface Route {
  method: Method;
  /** OpenAPI-style path, e.g. `/accounts/{userId}`. */
  path: string;
  summary: string;
  role: 'public' | 'app' | 'admin';
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodObject;
  /** Documented statuses besides the common 400/401/403/429. */
  responses: Record<number, string>;
  handle(ctx: { params: unknown; query: unknown; body: unknown }): unknown;
}

function routes(o: ApiOptions, openapi: () => object): Route[] {
  const { store, recorder } = o;
  return [
    {
      method: 'get', path: '/openapi.json', summary: 'This OpenAPI 3.1 document', role: 'public',
      responses: { 200: 'The document' },
      handle: () => openapi(),
    },
    {
      method: 'post', path: '/tokens', summary: 'Mint a signalling token for a user (for the app backend)', role: 'app',
      body: schemas.tokenRequest, responses: { 201: 'The token and its expiry' },
      handle: async ({ body }) => {
        const b = body as z.output<typeof schemas.tokenRequest>;
        const { token, expiresAt } = await mintUserToken(o.secret, b.userId, b.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS);
        return { status: 201, body: { token, userId: b.userId, expiresAt: new Date(expiresAt).toISOString() } };
      },
    },
    {
      method: 'get', path: '/accounts/{userId}', summary: "A user's credit balance", role: 'app',
      params: schemas.userParams, responses: { 200: 'The account (balance 0 if it never had credit)' },
      handle: async ({ params }) => {
        const { userId: id } = params as z.output<typeof schemas.userParams>;
        const account = await store.getAccount(id);
        return { userId: id, balance: account?.balance ?? 0, createdAt: account ? iso(account.createdAt) : null };
      },
    },
    {
      method: 'get', path: '/accounts/{userId}/transactions', summary: 'Credit history: top-ups and charges, newest first', role: 'app',
      params: schemas.userParams, query: schemas.pageQuery, responses: { 200: 'A page of ledger entries' },
      handle: async ({ params, query }) => {
        const { userId: id } = params as z.output<typeof schemas.userParams>;
        const page = await store.history(id, query as z.output<typeof schemas.pageQuery>);
        return { items: page.items.map((e) => ({ ...e, at: iso(e.at) })), nextOffset: page.nextOffset };
      },
    },
    {
      method: 'post', path: '/accounts/{userId}/top-ups', summary: 'Add credit (admin)', role: 'admin',
      params: schemas.userParams, body: schemas.topUpRequest, responses: { 201: 'The ledger entry' },
      handle: async ({ params, body }) => {
        const { userId: id } = params as z.output<typeof schemas.userParams>;
        const b = body as z.output<typeof schemas.topUpRequest>;
        const entry = await store.topUp(id, b.amount, b.reason ?? 'top-up');
        return { status: 201, body: { ...entry, at: iso(entry.at) } };
      },
    },
    {
      method: 'get', path: '/rates', summary: 'The rate table: credits per started minute by E.164 prefix', role: 'app',
      responses: { 200: 'All rates' },
      handle: async () => ({ items: await store.listRates() }),
    },
    {
      method: 'put', path: '/rates/{prefix}', summary: 'Set the rate for a prefix (admin)', role: 'admin',
      params: schemas.prefixParams, body: schemas.rateRequest, responses: { 200: 'The rate' },
      handle: ({ params, body }) => {
        const { prefix: p } = params as z.output<typeof schemas.prefixParams>;
        const b = body as z.output<typeof schemas.rateRequest>;
        return store.setRate(p, b.perMinute, b.description ?? '');
      },
    },
    {
      method: 'delete', path: '/rates/{prefix}', summary: 'Remove the rate for a prefix (admin)', role: 'admin',
      params: schemas.prefixParams, responses: { 204: 'Removed', 404: 'No such rate' },
      handle: async ({ params }) => {
        const { prefix: p } = params as z.output<typeof schemas.prefixParams>;
        if (!(await store.deleteRate(p))) throw new HttpError(404, 'not-found', `No rate for prefix ${p}.`);
        return { status: 204 };
      },
    },
    {
      method: 'post', path: '/phone-checks', summary: 'May this user call this number? (the check the gateway makes)', role: 'app',
      body: schemas.phoneCheckRequest,
      responses: { 200: 'Allowed: the rate that applies', 402: 'insufficient funds', 422: 'No rate covers the number' },
      handle: async ({ body }) => {
        const b = body as z.output<typeof schemas.phoneCheckRequest>;
        try {
          return { allowed: true, rate: await store.assertCanCallPhone(b.userId, b.number) };
        } catch (err) {
          if (err instanceof CallingError) throw new HttpError(err.code === 'insufficient-funds' ? 402 : 422, err.code, err.message);
          throw err;
        }
      },
    },
    {
      method: 'get', path: '/calls', summary: 'Call detail records, newest first (filter by user)', role: 'app',
      query: schemas.callsQuery, responses: { 200: 'A page of call records' },
      handle: async ({ query }) => {
        const page = await store.listCalls(query as z.output<typeof schemas.callsQuery>);
        return { items: page.items.map(callJson), nextOffset: page.nextOffset };
      },
    },
    {
      method: 'get', path: '/calls/{callId}', summary: 'One call detail record', role: 'app',
      params: schemas.callParams, responses: { 200: 'The call record', 404: 'No such call' },
      handle: async ({ params }) => {
        const { callId } = params as z.output<typeof schemas.callParams>;
        const call = await store.getCall(callId);
        if (!call) throw new HttpError(404, 'not-found', `No call ${callId}.`);
        return callJson(call);
      },
    },
    {
      method: 'get', path: '/users/online', role: 'app',
      summary: 'Users with an open signalling connection, each once, with their devices',
      responses: {
        200: '`users`: the user ids, sorted, each once (a user online only on a further device "<userId> <tag>" is listed by '
          + 'its user id); `items`: `[{ userId, devices: [peerId] }]`, the peer ids each user is online with (the plain '
          + 'user id first, then "<userId> <tag>" ids, sorted)',
      },
      handle: async () => onlineUsers(o.onlinePeers ? await o.onlinePeers() : recorder.online),
    },
  ];
}

/** `GET /users/online`: one entry per user, with the peer ids (devices) it is online with. */
export function onlineUsers(peers: Iterable<string>): { users: string[]; items: Array<{ userId: string; devices: string[] }> } {
  const byUser = new Map<string, string[]>();
  for (const peerId of peers) {
    const userId = userOfPeer(peerId);
    const list = byUser.get(userId);
    if (list) list.push(peerId);
    else byUser.set(userId, [peerId]);
  }
  const users = [...byUser.keys()].sort();
  // The plain user id (the default device) first, then the tagged devices in order.
  const order = (userId: string) => (a: string, b: string) => (a === userId ? -1 : b === userId ? 1 : a < b ? -1 : a > b ? 1 : 0);
  return { users, items: users.map((userId) => ({ userId, devices: byUser.get(userId)!.sort(order(userId)) })) };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}
function callJson(c: import('../storage/store.js').CallRecord): object {
  return {
    ...c,
    startedAt: iso(c.startedAt),
    establishedAt: isoOrNull(c.establishedAt),
    endedAt: isoOrNull(c.endedAt),
    durationSeconds: c.establishedAt !== null && c.endedAt !== null ? Math.round((c.endedAt - c.establishedAt) / 1000) : 0,
  };
}

// --- auth -----------------------------------------------------------------------------------------------------------

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The API key an HTTP Basic `Authorization` header names, if its secret matches (constant-time). */
export function authenticate(keys: readonly ApiKey[], header: string | undefined): ApiKey | undefined {
  const m = /^Basic ([A-Za-z0-9+/=]{1,1024})$/.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const key = decoded.slice(0, colon);
  const secret = digest(decoded.slice(colon + 1));
  let found: ApiKey | undefined;
  for (const k of keys) {
    // Compare every key in constant time, so timing tells nothing about which keys exist.
    const ok = timingSafeEqual(digest(k.key), digest(key)) && timingSafeEqual(digest(k.secret), secret);
    if (ok) found = k;
  }
  return found;
}

// --- router ---------------------------------------------------------------------------------------------------------

/** The `/api/v1` router. Mount it with `app.use('/api/v1', createApiRouter(...))`. */
export function createApiRouter(options: ApiOptions): Router {
  const router = express.Router();
  const limiter = options.limiter ?? new RateLimiter(options.rateLimit ?? { perSecond: 20, burst: 40 });
  const failures = new RateLimiter({ perSecond: 1, burst: 20 });
  let document: object | undefined;
  const table = routes(options, () => (document ??= openApiDocument(table)));

  router.use(express.json({ limit: '16kb', strict: true }));

  for (const route of table) {
    const expressPath = route.path.replace(/\{(\w+)\}/g, ':$1');
    router[route.method](expressPath, (req: Request, res: Response, next: NextFunction) => {
      void (async () => {
        try {
          if (route.role !== 'public') {
            const key = authenticate(options.keys, req.get('authorization'));
            if (!key) {
              const wait = failures.take(`ip:${req.ip ?? ''}`);
              if (wait) throw Object.assign(new HttpError(429, 'rate-limited', 'Too many failed authentications.'), { retryAfter: wait });
              res.set('WWW-Authenticate', 'Basic realm="calling-elements", charset="UTF-8"');
              throw new HttpError(401, 'unauthorized', 'Authenticate with the application key and secret (HTTP Basic).');
            }
            const wait = await limiter.take(key.key);
            if (wait) throw Object.assign(new HttpError(429, 'rate-limited', `Too many requests for this key; retry in ${wait} s.`), { retryAfter: wait });
            if (route.role === 'admin' && key.role !== 'admin') throw new HttpError(403, 'forbidden', 'This operation needs an admin key.');
          }
          const ctx = {
            params: route.params ? parse(route.params, req.params, 'path') : {},
            query: parse(route.query ?? z.object({}).strict(), req.query, 'query'),
            body: route.body ? parse(route.body, req.body, 'body') : undefined,
          };
          if (!route.body && req.body !== undefined && Object.keys(req.body as object).length > 0) {
            throw new HttpError(400, 'invalid-request', 'body: this operation takes no body', 'body');
          }
          const out = await route.handle(ctx);
          if (isResult(out)) {
            if (out.body === undefined) res.status(out.status).end();
            else res.status(out.status).json(out.body);
          } else {
            res.json(out);
          }
        } catch (err) {
          next(err);
        }
      })();
    });
  }

  router.use((_req: Request, _res: Response, next: NextFunction) => {
    next(new HttpError(404, 'not-found', 'No such API route.'));
  });
  // Four arguments: Express's error handler. Nothing of the error's internals reaches the client.
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof HttpError) {
      const retry = (err as { retryAfter?: number }).retryAfter;
      if (retry) res.set('Retry-After', String(retry));
      sendError(res, err);
      return;
    }
    const status = typeof err === 'object' && err !== null && 'status' in err ? Number((err as { status: unknown }).status) : 500;
    if (status === 400 && (err as { type?: string }).type === 'entity.parse.failed') {
      sendError(res, new HttpError(400, 'invalid-request', 'body: not valid JSON', 'body'));
    } else if (status === 413) {
      sendError(res, new HttpError(413, 'too-large', 'body: larger than 16 KiB', 'body'));
    } else if (status >= 400 && status < 500) {
      sendError(res, new HttpError(status, 'invalid-request', 'The request could not be read.'));
    } else {
      console.error('api: internal error', err);
      sendError(res, new HttpError(500, 'internal', 'Internal server error.'));
    }
  });
  return router;
}

function isResult(x: unknown): x is { status: number; body?: unknown } {
  return typeof x === 'object' && x !== null && 'status' in x && typeof (x as { status: unknown }).status === 'number'
    && Object.keys(x).every((k) => k === 'status' || k === 'body');
}

// --- OpenAPI ----------------------------------------------------------------------------------------------------------

function openApiDocument(table: readonly Route[]): object {
  const errorRef = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  const paths: Record<string, Record<string, object>> = {};
  for (const r of table) {
    const parameters: object[] = [];
    for (const [where, schema] of [['path', r.params], ['query', r.query]] as const) {
      if (!schema) continue;
      const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, object>; required?: string[] };
      for (const [name, s] of Object.entries(json.properties ?? {})) {
        parameters.push({ name, in: where, required: where === 'path' || (json.required ?? []).includes(name), schema: s });
      }
    }
    const responses: Record<string, object> = {};
    for (const [status, description] of Object.entries(r.responses)) {
      responses[status] = Number(status) >= 400 ? { description, ...errorRef } : { description, content: { 'application/json': {} } };
    }
    if (r.role !== 'public') {
      responses['400'] = { description: 'Invalid input: the message names the field', ...errorRef };
      responses['401'] = { description: 'Missing or wrong application key/secret', ...errorRef };
      responses['429'] = { description: 'Rate limited: see Retry-After', headers: { 'Retry-After': { schema: { type: 'integer' } } }, ...errorRef };
    }
    if (r.role === 'admin') responses['403'] = { description: 'Needs an admin key', ...errorRef };
    paths[r.path] ??= {};
    paths[r.path]![r.method] = {
      summary: r.summary,
      operationId: `${r.method}${r.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      ...(r.role === 'public' ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(r.body, { io: 'input', unrepresentable: 'any' }) } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'calling-elements server API', version: '1.0.0', description: 'Accounts, credits, rates, call records, user tokens, online users and conferences.' },
    servers: [{ url: '/api/v1' }],
    security: [{ basic: [] }],
    components: {
      securitySchemes: { basic: { type: 'http', scheme: 'basic', description: 'Application key as user name, secret as password.' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
            },
          },
        },
      },
    },
    paths: { ...paths, ...conferenceOpenApiPaths() },
  };
}
