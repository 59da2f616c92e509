/**
 * `ConferenceProcess`: the parent side of the conference service's child process. Implements `ConferenceBackend`
 * over Node's IPC channel, mints the service's signalling tokens (the secret stays here), restarts a crashed child,
 * and hands room events to `onRecord`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildConfig, ChildMessage, ParentMessage } from './child.js';
import type { ClockStats } from './service.js';
import {
  ConferenceError, DEFAULT_CODEC, DEFAULT_LIMITS, type CalloutTarget, type ConferenceCodec, type ConferenceBackend, type ConferenceLimits, type ParticipantView,
  type RoomEvent, type RoomView,
} from './types.js';

export interface ConferenceProcessOptions {
  /** The calling server's base URL (the child registers there). */
  server: string;
  /** Mints a service token for the conference peer id. */
  mintToken: () => Promise<string>;
  limits?: Partial<ConferenceLimits>;
  /** Only use 127.0.0.1 ICE candidates (tests, single-machine setups). */
  loopbackOnly?: boolean;
  ringTimeout?: number;
  /** Phone / SIP callouts through the calling gateway. */
  gateway?: boolean;
  /** The participants' audio codec. Default `DEFAULT_CODEC`. */
  codec?: ConferenceCodec;
  onRecord?: (event: RoomEvent) => void;
  /** TURN servers for the participants' legs, minted for each (re)start of the child. */
  iceServers?: () => RTCIceServer[];
  /** How long a request may take (ms). Default 10 000. */
  requestTimeout?: number;
}

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

export class ConferenceProcess implements ConferenceBackend {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>();
  private stopping = false;
  private restarts = 0;
  /** Mixing figures the child reports each second. */
  lastStats: ClockStats | undefined;

  private constructor(private readonly options: ConferenceProcessOptions) {}

  static async start(options: ConferenceProcessOptions): Promise<ConferenceProcess> {
    const p = new ConferenceProcess(options);
    await p.spawn();
    return p;
  }

  /** The child's process id (for CPU measurements). */
  get pid(): number | undefined { return this.child?.pid; }

  getRoom(conferenceId: string): Promise<RoomView> { return this.call('getRoom', [conferenceId]) as Promise<RoomView>; }
  listRooms(): Promise<RoomView[]> { return this.call('listRooms', []) as Promise<RoomView[]>; }
  addParticipant(conferenceId: string, target: CalloutTarget, options: { displayName?: string; chargeTo?: string } = {}): Promise<ParticipantView> {
    return this.call('addParticipant', [conferenceId, target, options]) as Promise<ParticipantView>;
  }
  setMuted(conferenceId: string, participantId: string, muted: boolean): Promise<ParticipantView> {
    return this.call('setMuted', [conferenceId, participantId, muted]) as Promise<ParticipantView>;
  }
  async removeParticipant(conferenceId: string, participantId: string): Promise<void> { await this.call('removeParticipant', [conferenceId, participantId]); }
  async endRoom(conferenceId: string): Promise<void> { await this.call('endRoom', [conferenceId]); }

  /** Ends every room (participants are told), then stops the child. */
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      if (child.connected) child.send({ type: 'stop' } satisfies ParentMessage);
      else child.kill('SIGTERM');
    });
  }

  private spawn(): Promise<void> {
    const config: ChildConfig = {
      server: this.options.server,
      limits: { ...DEFAULT_LIMITS, ...this.options.limits },
      loopbackOnly: this.options.loopbackOnly ?? false,
      ...(this.options.ringTimeout ? { ringTimeout: this.options.ringTimeout } : {}),
      ...(this.options.gateway ? { gateway: true } : {}),
      codec: this.options.codec ?? DEFAULT_CODEC,
      ...(this.options.iceServers ? { iceServers: this.options.iceServers() } : {}),
    };
    const child = fork(CHILD, [], {
      // The service is TypeScript run through tsx, like the server (`npm start`). CONFERENCE_CHILD_NODE_ARGS adds
      // Node flags for the child alone (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, not allowed in NODE_OPTIONS).
      execArgv: ['--import', 'tsx', ...(process.env.CONFERENCE_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean)],
      env: { ...process.env, CONFERENCE_CHILD_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      child.on('message', (m: ChildMessage) => {
        if (m.type === 'ready') {
          ready = true;
          resolve();
        } else this.onMessage(m);
      });
      child.once('exit', (code) => {
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new ConferenceError('service-unavailable', 'The conference service stopped.'));
          this.pending.delete(id);
        }
        if (!ready) {
          reject(new Error(`conference service exited with ${code} before it was ready`));
          return;
        }
        if (this.stopping) return;
        // A crash: rooms are gone (their participants' calls fail); come back for new ones.
        const delay = Math.min(30_000, 500 * 2 ** this.restarts++);
        console.error(`conference service exited (${code}); restarting in ${delay} ms`);
        setTimeout(() => { if (!this.stopping) this.spawn().catch((e: unknown) => console.error('conference service restart failed', e)); }, delay).unref();
      });
    });
  }

  private onMessage(m: ChildMessage): void {
    switch (m.type) {
      case 'result': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.ok) p.resolve(m.value);
        else p.reject(new ConferenceError(ConferenceError.isCode(m.error.code) ? m.error.code : 'service-unavailable', m.error.message));
        break;
      }
      case 'token-request':
        this.options.mintToken().then(
          (token) => this.child?.send({ type: 'token', id: m.id, token } satisfies ParentMessage),
          (err: unknown) => this.child?.send({ type: 'token', id: m.id, error: String(err) } satisfies ParentMessage),
        );
        break;
      case 'record':
        this.options.onRecord?.(m.event);
        break;
      case 'stats':
        this.lastStats = m.stats;
        break;
      case 'ready':
        break;
    }
  }

  private call(method: keyof ConferenceBackend, args: unknown[]): Promise<unknown> {
    const child = this.child;
    if (!child || !child.connected || this.stopping) {
      return Promise.reject(new ConferenceError('service-unavailable', 'The conference service is not running.'));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ConferenceError('service-unavailable', 'The conference service did not answer in time.'));
      }, this.options.requestTimeout ?? 10_000);
      this.pending.set(id, { resolve, reject, timer });
      child.send({ type: 'call', id, method, args } satisfies ParentMessage);
    });
  }
}
