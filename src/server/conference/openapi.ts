/**
 * The conference REST routes' validators and their OpenAPI 3.1 paths. The paths are part of the one API document at
 * `/api/v1/openapi.json` (`src/server/api/router.ts` merges them), with the same security scheme and `Error` schema;
 * the request body schemas are generated from the validators `rest.ts` uses, so document and checks cannot drift.
 */
import { z } from 'zod';
import { CONFERENCE_ID } from './types.js';
import { E164 } from '../../core/validation.js';
import { isPossiblePhoneNumber, PHONE_NUMBER_RULE } from '../phone-numbers.js';

const conferenceId = z.string().regex(CONFERENCE_ID, '1 to 64 letters, digits, ".", "-" or "_"');
const participantId = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.+@:;=!~*'()&$,?/%-]+$/, 'a user id, E.164 number or SIP address');
const userId = z.string().min(1).max(64).regex(/^[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*$/, 'letters, digits and single - or _ between them');

export const conferenceSchemas = {
  roomParams: z.object({ id: conferenceId }),
  participantParams: z.object({ id: conferenceId, pid: participantId }),
  callout: z.object({
    userId: userId.optional(),
    phoneNumber: z.string().regex(E164, PHONE_NUMBER_RULE).refine(isPossiblePhoneNumber, PHONE_NUMBER_RULE).optional(),
    sipAddress: z.string().min(3).max(200).regex(/^[^@\s]+@[A-Za-z0-9.-]+(?::\d{1,5})?$/, 'user@domain').optional(),
    displayName: z.string().min(1).max(128).optional(),
    /** Phone callouts: the user whose credit pays the leg (default: the `calling-conference` account). */
    chargeTo: userId.optional(),
  }).strict().refine((b) => [b.userId, b.phoneNumber, b.sipAddress].filter((x) => x !== undefined).length === 1, {
    message: 'exactly one of userId, phoneNumber, sipAddress', path: ['userId'],
  }),
  mute: z.object({ muted: z.boolean() }).strict(),
};

/** The `paths` of the conference routes, relative to the `/api/v1` server (refs `#/components/schemas/Error`). */
export function conferenceOpenApiPaths(): Record<string, Record<string, object>> {
  const error = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  const common = {
    400: { description: 'Invalid input: the message names the field', ...error },
    401: { description: 'Missing or wrong application key/secret', ...error },
    429: { description: 'Rate limited: see Retry-After', headers: { 'Retry-After': { schema: { type: 'integer' } } }, ...error },
    503: { description: 'The conference service is not running, or too many conferences', ...error },
  };
  const json = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) } } });
  const id = { name: 'id', in: 'path', required: true, schema: z.toJSONSchema(conferenceId) };
  const pid = { name: 'pid', in: 'path', required: true, schema: z.toJSONSchema(participantId) };
  const ok = (description: string) => ({ description, content: { 'application/json': {} } });
  return {
    '/conferences': { get: { operationId: 'listConferences', summary: 'Rooms on this server', responses: { 200: ok('The rooms: { items: [room] }'), ...common } } },
    '/conferences/openapi.json': {
      get: {
        operationId: 'getConferenceOpenApi', deprecated: true, security: [],
        summary: 'Moved: the conference routes are in this document; redirects to /openapi.json',
        responses: { 308: { description: 'Permanent redirect to /api/v1/openapi.json', headers: { Location: { schema: { type: 'string' } } } } },
      },
    },
    '/conferences/{id}': {
      get: { operationId: 'getConference', summary: 'A room and its participants', parameters: [id], responses: { 200: ok('The room'), 404: { description: 'No such room', ...error }, ...common } },
      delete: { operationId: 'endConference', summary: 'End the room for everyone', parameters: [id], responses: { 204: { description: 'Ended' }, 404: { description: 'No such room', ...error }, ...common } },
    },
    '/conferences/{id}/participants': {
      post: {
        operationId: 'addConferenceParticipant', summary: 'Ring a user into the room (phone / SIP through the gateway)', parameters: [id],
        requestBody: json(conferenceSchemas.callout),
        responses: { 201: ok('The participant, ringing'), 409: { description: 'Room full or already in the room', ...error }, 501: { description: 'Phone/SIP need the gateway', ...error }, ...common },
      },
    },
    '/conferences/{id}/participants/{pid}': {
      patch: { operationId: 'muteConferenceParticipant', summary: 'Mute or unmute a participant', parameters: [id, pid], requestBody: json(conferenceSchemas.mute), responses: { 200: ok('The participant'), 404: { description: 'No such room or participant', ...error }, ...common } },
      delete: { operationId: 'removeConferenceParticipant', summary: 'Remove a participant', parameters: [id, pid], responses: { 204: { description: 'Removed' }, 404: { description: 'No such room or participant', ...error }, ...common } },
    },
  };
}
