/**
 * The test number +46000000000, answered by the gateway itself (no trunk): the caller hears a short voice prompt
 * ("Your call has been connected"), then the gateway hangs up, so the caller's call ends with `hungUp`.
 * The prompt is a committed 8 kHz WAV (`assets/test-number-prompt.wav`, made by `assets/make-prompt.sh`).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PeerSession } from '../node-peer/index.js';
import { readWav } from './media/dsp.js';
import type { Pacer } from './media/pacer.js';

export const TEST_NUMBER = '+46000000000';
export const DEFAULT_PROMPT = fileURLToPath(new URL('./assets/test-number-prompt.wav', import.meta.url));

/** Silence before the prompt (media settles) and after it (the tail is heard before the hang-up). */
const LEAD_MS = 400;
const TAIL_MS = 400;

export class TestNumber {
  private prompt: { samples: Int16Array; sampleRate: number } | undefined;
  private readonly active = new Set<PeerSession>();

  constructor(private readonly path = DEFAULT_PROMPT, private readonly pacer: Pacer) {}

  private load(): { samples: Int16Array; sampleRate: number } {
    this.prompt ??= readWav(readFileSync(this.path));
    return this.prompt;
  }

  /** Answers, plays the prompt once media flows, then hangs up. `done` gets the answer time and who ended. */
  handle(session: PeerSession, done: (answeredAt: number | undefined, endedBy: 'caller' | 'gateway') => void): void {
    const { samples, sampleRate } = this.load();
    const frame = sampleRate / 100;
    this.active.add(session);
    let answeredAt: number | undefined;
    let unsubscribe: (() => void) | undefined;
    session.once('end', (e) => {
      unsubscribe?.();
      this.active.delete(session);
      done(answeredAt, e.by === 'remote' ? 'caller' : 'gateway');
    });
    session.ringing();
    session.answer();
    answeredAt = Date.now();
    const play = () => {
      if (session.ended) return;
      let pos = -Math.round((LEAD_MS / 1000) * sampleRate);
      const end = samples.length + Math.round((TAIL_MS / 1000) * sampleRate);
      unsubscribe = this.pacer.add(() => {
        if (pos >= end) {
          unsubscribe?.();
          session.hangup('hungUp');
          return;
        }
        const out = new Int16Array(frame);
        for (let i = 0; i < frame; i++) {
          const k = pos + i;
          if (k >= 0 && k < samples.length) out[i] = samples[k];
        }
        pos += frame;
        session.sendAudio(out, sampleRate);
      });
    };
    if (session.isMediaUp) play();
    else {
      session.once('media', play);
      // Media that never comes: do not keep the call for ever.
      setTimeout(() => {
        if (!session.ended && !session.isMediaUp) session.hangup('failure', { domain: 'media', code: 'media-timeout', message: 'Media could not be connected.' });
      }, 15_000).unref();
    }
  }

  stopAll(): void {
    for (const s of [...this.active]) s.hangup('hungUp');
  }
}
