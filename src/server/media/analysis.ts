/**
 * Goertzel: the share of `samples`' power at `freq` (≈ 1 for a pure tone at `freq`, ≈ 0 without it). The gateway,
 * the conference service, their tests and benchmarks use it to tell tones apart.
 */
export function toneShare(samples: ArrayLike<number>, rate: number, freq: number): number {
  const coeff = 2 * Math.cos((2 * Math.PI * freq) / rate);
  let s1 = 0, s2 = 0, total = 0;
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i]!;
    const s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
    total += x * x;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return total === 0 ? 0 : (2 * power) / (samples.length * total);
}
