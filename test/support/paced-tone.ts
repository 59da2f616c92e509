/**
 * Sends a sine to a Node WebRTC session in 10 ms frames of 48 kHz, clock-driven with catch-up (a late timer must not
 * starve a mixer of frames; more than 200 ms behind, it skips ahead instead of bursting). `talking()` false sends
 * silence. Returns the function that stops it. Shared by the conference tests and the conference bench.
 */
export function pacedTone(
  session: { sendAudio(samples: Int16Array, sampleRate: number): void },
  freq: number,
  amplitude: number,
  talking: () => boolean = () => true,
): () => void {
  const rate = 48_000;
  const start = performance.now();
  let sent = 0;
  const timer = setInterval(() => {
    const due = Math.floor((performance.now() - start) / 10);
    if (due - sent > 20) sent = due - 1;
    for (; sent < due; sent++) {
      const s = new Int16Array(480);
      if (talking()) for (let i = 0; i < 480; i++) s[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * (sent * 480 + i)) / rate));
      session.sendAudio(s, rate);
    }
  }, 10);
  return () => clearInterval(timer);
}
