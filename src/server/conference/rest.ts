/**
 * The conference REST routes, mounted at `/api/v1/conferences` in front of the main `/api/v1` router and written in
 * its style: HTTP Basic with an application key, zod-validated input (400 names the field), per-key rate limit,
 * errors as `{ "error": { "code", "message", "field"? } }`. Their OpenAPI paths (`openapi.ts`) are part of the one
 * API document at `/api/v1/openapi.json` (the old `/api/v1/conferences/openapi.json` redirects there). They talk to
 * conferences only through `ConferenceBackend`.
 *
 * - `GET    /api/v1/conferences`                         rooms on this server
 * - `GET    /api/v1/conferences/{id}`                    a room and its participants
 * - `DELETE /api/v1/conferences/{id}`                    end the room for everyone
 * - `POST   /api/v1/conferences/{id}/participants`       `{ userId }` rings that user into the room;
 *                                                         `{ phoneNumber | sipAddress, chargeTo? }` calls out through
 *                                                         the gateway (501 when the server runs none)
 * - `PATCH  /api/v1/conferences/{id}/participants/{pid}` `{ muted: true | false }`
 * - `DELETE /api/v1/conferences/{id}/participants/{pid}` remove from the room
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { authenticate, type ApiKey } from '../api/router.js';
import { RateLimiter, type RateLimitOptions } from '../api/rate-limit.js';
import { CallingError } from '../../core/errors.js';
import { ConferenceError, type ConferenceBackend } from './types.js';
import { conferenceSchemas } from './openapi.js';

export interface ConferenceRouterOptions {
  /** The backend, or undefined while the service is not (yet) running (then 503). */
  backend: () => ConferenceBackend | undefined;
  keys: readonly ApiKey[];
  rateLimit?: RateLimitOptions;
}

const schemas = conferenceSchemas;

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string, readonly retryAfter?: number) {
    super(message);
  }
}

function parse<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'path'): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const key = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const field = [...issue.path.map(String), ...(key ? [key] : [])].join('.') || where;
  throw new HttpError(400, 'invalid-request', `${field}: ${issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message}`, field);
}


type Handler = (req: Request, backend: ConferenceBackend) => Promise<{ status: number; body?: unknown }>;

/** The router to mount at `/api/v1/conferences` (before the main `/api/v1` router, whose 404 would catch these). */
export function createConferenceRouter(options: ConferenceRouterOptions): Router {
  const router = express.Router();
  const limiter = new RateLimiter(options.rateLimit ?? { perSecond: 20, burst: 40 });
  const failures = new RateLimiter({ perSecond: 1, burst: 20 });
  router.use(express.json({ limit: '16kb', strict: true }));
  // The old URL of this router's own document: the conference routes are now in the one API document.
  router.get('/openapi.json', (_req, res) => { res.redirect(308, '/api/v1/openapi.json'); });

  const route = (method: 'get' | 'post' | 'patch' | 'delete', path: string, handler: Handler) => {
    router[method](path, (req: Request, res: Response, next: NextFunction) => {
      void (async () => {
        try {
          const key = authenticate(options.keys, req.get('authorization'));
          if (!key) {
            const wait = failures.take(`ip:${req.ip ?? ''}`);
            if (wait) throw new HttpError(429, 'rate-limited', 'Too many failed authentications.', undefined, wait);
            res.set('WWW-Authenticate', 'Basic realm="calling-elements", charset="UTF-8"');
            throw new HttpError(401, 'unauthorized', 'Authenticate with the application key and secret (HTTP Basic).');
          }
          const wait = limiter.take(key.key);
          if (wait) throw new HttpError(429, 'rate-limited', `Too many requests for this key; retry in ${wait} s.`, undefined, wait);
          const backend = options.backend();
          if (!backend) throw new HttpError(503, 'service-unavailable', 'The conference service is not running.');
          const out = await handler(req, backend);
          if (out.body === undefined) res.status(out.status).end();
          else res.status(out.status).json(out.body);
        } catch (err) {
          next(err);
        }
      })();
    });
  };

  route('get', '/', async (_req, b) => ({ status: 200, body: { items: await b.listRooms() } }));
  route('get', '/:id', async (req, b) => {
    const { id } = parse(schemas.roomParams, req.params, 'path');
    return { status: 200, body: await b.getRoom(id) };
  });
  route('delete', '/:id', async (req, b) => {
    const { id } = parse(schemas.roomParams, req.params, 'path');
    await b.endRoom(id);
    return { status: 204 };
  });
  route('post', '/:id/participants', async (req, b) => {
    const { id } = parse(schemas.roomParams, req.params, 'path');
    const body = parse(schemas.callout, req.body, 'body');
    const target = body.userId !== undefined ? { userId: body.userId }
      : body.phoneNumber !== undefined ? { phoneNumber: body.phoneNumber } : { sipAddress: body.sipAddress! };
    const view = await b.addParticipant(id, target, {
      ...(body.displayName ? { displayName: body.displayName } : {}), ...(body.chargeTo ? { chargeTo: body.chargeTo } : {}),
    });
    return { status: 201, body: view };
  });
  route('patch', '/:id/participants/:pid', async (req, b) => {
    const { id, pid } = parse(schemas.participantParams, req.params, 'path');
    const { muted } = parse(schemas.mute, req.body, 'body');
    return { status: 200, body: await b.setMuted(id, pid, muted) };
  });
  route('delete', '/:id/participants/:pid', async (req, b) => {
    const { id, pid } = parse(schemas.participantParams, req.params, 'path');
    await b.removeParticipant(id, pid);
    return { status: 204 };
  });

  router.use((_req: Request, _res: Response, next: NextFunction) => next(new HttpError(404, 'not-found', 'No such API route.')));
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    let e: HttpError;
    if (err instanceof HttpError) e = err;
    else if (err instanceof ConferenceError) e = new HttpError(err.status, err.code, err.message);
    else if (err instanceof CallingError) e = new HttpError(400, err.code, err.message);
    else {
      const status = typeof err === 'object' && err !== null && 'status' in err ? Number((err as { status: unknown }).status) : 500;
      if (status === 400 && (err as { type?: string }).type === 'entity.parse.failed') e = new HttpError(400, 'invalid-request', 'body: not valid JSON', 'body');
      else if (status === 413) e = new HttpError(413, 'too-large', 'body: larger than 16 KiB', 'body');
      else if (status >= 400 && status < 500) e = new HttpError(status, 'invalid-request', 'The request could not be read.');
      else {
        console.error('conference api: internal error', err);
        e = new HttpError(500, 'internal', 'Internal server error.');
      }
    }
    if (e.retryAfter) res.set('Retry-After', String(e.retryAfter));
    res.status(e.status).json({ error: { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) } });
  });
  return router;
}
