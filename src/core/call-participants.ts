import { CallParticipantChangedEvent, CallParticipantJoinedEvent, CallParticipantLeftEvent, type Call, type CallEvent } from './events.js';
import type { WireParticipant } from './protocol.js';
import type { CallParticipant } from './types.js';
import { cleanDisplayName } from './validation.js';

/**
 * Who takes part in a call besides this user: the remote party (whose name an outgoing user call learns from the
 * callee's device), or a conference room's list, replaced by the conference service.
 */
export class CallParticipants {
  /** A new frozen array on every change. */
  list: readonly CallParticipant[];

  constructor(remote: CallParticipant, conference: boolean) {
    // A conference's list comes from the conference service once the user is in the room.
    this.list = Object.freeze(conference ? [] : [Object.freeze({ ...remote })]);
  }

  /** Gives the remote party the display name `name` (cleaned); returns it, or undefined when nothing changed. */
  rename(name: string): string | undefined {
    const clean = cleanDisplayName(name);
    if (!clean || clean === this.list[0]?.displayName) return undefined;
    this.list = Object.freeze([Object.freeze({ ...this.list[0], displayName: clean })]);
    return clean;
  }

  /** Replaces the conference list; returns the joined / changed / left events to dispatch on `call`. */
  replace(call: Call, wire: readonly WireParticipant[]): CallEvent[] {
    const before = new Map(this.list.map((p) => [p.id, p]));
    const next: CallParticipant[] = [];
    const seen = new Set<string>();
    for (const w of wire) {
      if (seen.has(w.id)) continue;
      seen.add(w.id);
      next.push(Object.freeze({ id: w.id, muted: w.muted, speaking: w.speaking, ...(w.displayName ? { displayName: w.displayName } : {}) }));
    }
    this.list = Object.freeze(next);
    const events: CallEvent[] = [];
    for (const p of next) {
      const old = before.get(p.id);
      if (!old) events.push(new CallParticipantJoinedEvent(call, p));
      else if (old.muted !== p.muted || old.speaking !== p.speaking || old.displayName !== p.displayName) {
        events.push(new CallParticipantChangedEvent(call, p, old));
      }
    }
    for (const [id, old] of before) if (!seen.has(id)) events.push(new CallParticipantLeftEvent(call, old));
    return events;
  }
}
