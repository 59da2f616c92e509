/**
 * The conference REST routes, mounted at `/api/v1/conferences` in front of the main `/api/v1` router and written in
 * its style: HTTP Basic with an application key, zod-validated input (400 names the field), per-key rate limit,
 * errors as `{ "error": { "code", "message", "field"? } }`, and an OpenAPI 3.1 fragment at
 * `/api/v1/conferences/openapi.json`. They talk to conferences only through `ConferenceBackend`.
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
import { ConferenceError, CONFERENCE_ID, type ConferenceBackend } from './types.js';

export interface ConferenceRouterOptions {
  /** The backend, or undefined while the service is not (yet) running (then 503). */
  backend: () => ConferenceBackend | undefined;
  keys: readonly ApiKey[];
  rateLimit?: RateLimitOptions;
}

const conferenceId = z.string().regex(CONFERENCE_ID, '1 to 64 letters, digits, ".", "-" or "_"');
const participantId = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.+@:;=!~*'()&$,?/%-]+$/, 'a user id, E.164 number or SIP address');
const userId = z.string().min(1).max(64).regex(/^[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*$/, 'letters, digits and single - or _ between them');
const schemas = {
  roomParams: z.object({ id: conferenceId }),
  participantParams: z.object({ id: conferenceId, pid: participantId }),
  callout: z.object({
    userId: userId.optional(),
    phoneNumber: z.string().regex(/^\+[1-9][0-9]{1,14}$/, 'an E.164 number such as +14155550101').optional(),
    sipAddress: z.string().min(3).max(200).regex(/^[^@\s]+@[A-Za-z0-9.-]+(?::\d{1,5})?$/, 'user@domain').optional(),
    displayName: z.string().min(1).max(128).optional(),
    /** Phone callouts: the user whose credit pays the leg (default: the `calling-conference` account). */
    chargeTo: userId.optional(),
  }).strict().refine((b) => [b.userId, b.phoneNumber, b.sipAddress].filter((x) => x !== undefined).length === 1, {
    message: 'exactly one of userId, phoneNumber, sipAddress', path: ['userId'],
  }),
  mute: z.object({ muted: z.boolean() }).strict(),
};

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
  router.get('/openapi.json', (_req, res) => { res.json(openApiFragment()); });

  const route = (method: 'get' | 'post' | 'patch' | 'delete', path: string, handler: Handler) => {
    router[method](path, (req: Request, res: Response, next: NextFunction) => {
      void (async () => {
        try {
          const key = authenticate(options.keys, req.get('authorization'));
          if (!key) {
            const wait = failures.take(`ip:${req.socket.remoteAddress ?? ''}`);
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

/** OpenAPI 3.1 paths for these routes (same security scheme and Error schema as `/api/v1/openapi.json`). */
export function openApiFragment(): object {
  const error = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  const common = {
    400: { description: 'Invalid input: the message names the field', ...error },
    401: { description: 'Missing or wrong application key/secret', ...error },
    429: { description: 'Rate limited: see Retry-After', ...error },
    503: { description: 'The conference service is not running, or too many conferences', ...error },
  };
  const json = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) } } });
  const id = { name: 'id', in: 'path', required: true, schema: z.toJSONSchema(conferenceId) };
  const pid = { name: 'pid', in: 'path', required: true, schema: z.toJSONSchema(participantId) };
  const ok = (description: string) => ({ description, content: { 'application/json': {} } });
  return {
    openapi: '3.1.0',
    info: { title: 'calling-elements conference API', version: '1.0.0' },
    servers: [{ url: '/api/v1' }],
    security: [{ basic: [] }],
    components: {
      securitySchemes: { basic: { type: 'http', scheme: 'basic' } },
      schemas: { Error: { type: 'object', required: ['error'], properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } } } } } },
    },
    paths: {
      '/conferences': { get: { operationId: 'listConferences', summary: 'Rooms on this server', responses: { 200: ok('The rooms'), ...common } } },
      '/conferences/{id}': {
        get: { operationId: 'getConference', summary: 'A room and its participants', parameters: [id], responses: { 200: ok('The room'), 404: { description: 'No such room', ...error }, ...common } },
        delete: { operationId: 'endConference', summary: 'End the room for everyone', parameters: [id], responses: { 204: { description: 'Ended' }, 404: { description: 'No such room', ...error }, ...common } },
      },
      '/conferences/{id}/participants': {
        post: {
          operationId: 'addConferenceParticipant', summary: 'Ring a user into the room (phone / SIP through the gateway)', parameters: [id],
          requestBody: json(schemas.callout),
          responses: { 201: ok('The participant, ringing'), 409: { description: 'Room full or already in the room', ...error }, 501: { description: 'Phone/SIP need the gateway', ...error }, ...common },
        },
      },
      '/conferences/{id}/participants/{pid}': {
        patch: { operationId: 'muteConferenceParticipant', summary: 'Mute or unmute a participant', parameters: [id, pid], requestBody: json(schemas.mute), responses: { 200: ok('The participant'), 404: { description: 'No such room or participant', ...error }, ...common } },
        delete: { operationId: 'removeConferenceParticipant', summary: 'Remove a participant', parameters: [id, pid], responses: { 204: { description: 'Removed' }, 404: { description: 'No such room or participant', ...error }, ...common } },
      },
    },
  };
}
