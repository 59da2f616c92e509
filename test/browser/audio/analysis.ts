// Signal analysis shared by the audio tests (Node and browser): Goertzel amplitudes, spectral peaks, RMS.

/** Amplitude (0..1 for a full-scale sine) of `freq` in `samples[start, start+length)`, by the Goertzel algorithm. */
export function goertzel(samples: ArrayLike<number>, sampleRate: number, freq: number, start = 0, length = samples.length - start): number {
  const w = (2 * Math.PI * freq) / sampleRate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = start; i < start + length; i++) {
    // A Hann window keeps a strong neighbour (440 next to 480 Hz) from leaking into the bin.
    const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i - start)) / (length - 1));
    const s0 = samples[i]! * hann + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * Math.sqrt(Math.max(0, power))) / (length * 0.5);
}

/**
 * The `count` strongest spectral peaks between `from` and `to` Hz (scanned in `step` Hz), strongest first, at least
 * `minSeparation` Hz apart; peaks weaker than `floor` are left out.
 */
export function spectrumPeaks(
  samples: ArrayLike<number>,
  sampleRate: number,
  options: { from?: number; to?: number; step?: number; count?: number; minSeparation?: number; floor?: number; start?: number; length?: number } = {},
): Array<{ freq: number; amp: number }> {
  const { from = 100, to = 2000, step = 1, count = 2, minSeparation = 25, floor = 0.01, start = 0 } = options;
  const length = options.length ?? samples.length - start;
  const scan: Array<{ freq: number; amp: number }> = [];
  for (let f = from; f <= to; f += step) scan.push({ freq: f, amp: goertzel(samples, sampleRate, f, start, length) });
  const local = scan.filter((p, i) => p.amp >= floor && p.amp >= (scan[i - 1]?.amp ?? 0) && p.amp >= (scan[i + 1]?.amp ?? 0));
  local.sort((a, b) => b.amp - a.amp);
  const picked: Array<{ freq: number; amp: number }> = [];
  for (const p of local) {
    if (picked.every((q) => Math.abs(q.freq - p.freq) >= minSeparation)) picked.push(p);
    if (picked.length === count) break;
  }
  return picked;
}

/** Peaks of an AnalyserNode's `getFloatFrequencyData` (dB per bin), strongest first, at least `minSeparation` Hz apart. */
export function fftPeaks(db: Float32Array, sampleRate: number, fftSize: number, { count = 2, minSeparation = 25, from = 100, to = 2500, floorDb = -70 } = {}): Array<{ freq: number; db: number }> {
  const bin = sampleRate / fftSize;
  const local: Array<{ freq: number; db: number }> = [];
  for (let i = Math.ceil(from / bin); i < Math.min(db.length - 1, to / bin); i++) {
    const v = db[i]!;
    if (v > floorDb && v >= db[i - 1]! && v >= db[i + 1]!) local.push({ freq: i * bin, db: v });
  }
  local.sort((a, b) => b.db - a.db);
  const picked: Array<{ freq: number; db: number }> = [];
  for (const p of local) {
    if (picked.every((q) => Math.abs(q.freq - p.freq) >= minSeparation)) picked.push(p);
    if (picked.length === count) break;
  }
  return picked;
}

/** Root mean square of `samples[start, start+length)`. */
export function rms(samples: ArrayLike<number>, start = 0, length = samples.length - start): number {
  let sum = 0;
  for (let i = start; i < start + length; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / Math.max(1, length));
}
