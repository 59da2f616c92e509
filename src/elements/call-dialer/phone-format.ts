// Country calling codes of one and two digits; every other code has three (ITU-T E.164 assignments).
const CC1 = new Set(['1', '7']);
const CC2 = new Set(
  '20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98'.split(' '),
);

/** Digits and a leading '+' only; a leading international "00" becomes '+'. */
export function normalizePhone(input: string): string {
  const trimmed = input.trim();
  const plus = trimmed.startsWith('+') || trimmed.startsWith('00');
  let digits = trimmed.replace(/\D/g, '');
  if (!trimmed.startsWith('+') && trimmed.startsWith('00')) digits = digits.slice(2);
  return (plus ? '+' : '') + digits;
}

/**
 * Groups a number for reading while it is typed: "+1 415 555 0101", "+46 000 000 000". Only spacing changes,
 * so `normalizePhone(formatPhone(x)) === normalizePhone(x)`.
 */
export function formatPhone(input: string): string {
  const n = normalizePhone(input);
  if (!n.startsWith('+')) return n;
  const digits = n.slice(1);
  const ccLength = CC1.has(digits[0] ?? '') ? 1 : CC2.has(digits.slice(0, 2)) ? 2 : 3;
  if (digits.length <= ccLength) return n;
  const cc = digits.slice(0, ccLength);
  const rest = digits.slice(ccLength);
  // North American numbers read 3-3-4; elsewhere threes, the last group taking up to four digits.
  const groups = cc === '1' ? [rest.slice(0, 3), rest.slice(3, 6), rest.slice(6)] : chunk(rest);
  return `+${cc} ${groups.filter(Boolean).join(' ')}`;
}

function chunk(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (s.length - i > 4) {
    out.push(s.slice(i, i + 3));
    i += 3;
  }
  out.push(s.slice(i));
  return out;
}
