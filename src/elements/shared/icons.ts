import { svg } from 'lit';

// Small inline icons (Material Symbols paths, 24×24). Decorative: buttons carry their own text labels.
const icon = (d: string, transform = '') =>
  svg`<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d=${d} transform=${transform}></path></svg>`;
const PHONE = 'M20 15.5c-1.25 0-2.45-.2-3.57-.57a1 1 0 0 0-1.02.24l-2.2 2.2a15.05 15.05 0 0 1-6.59-6.59l2.2-2.21a.96.96 0 0 0 .25-1A11.36 11.36 0 0 1 8.5 4a1 1 0 0 0-1-1H4a1 1 0 0 0-1 1 17 17 0 0 0 17 17 1 1 0 0 0 1-1v-3.5a1 1 0 0 0-1-1z';

export const icons = {
  phone: icon(PHONE),
  // The handset turned down: no second path to ship.
  hangup: icon(PHONE, 'rotate(135 12 12)'),
  mic: icon('M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5.3-3a5.3 5.3 0 0 1-10.6 0H5a7 7 0 0 0 6 6.72V21h2v-3.28A7 7 0 0 0 19 11h-1.7z'),
  video: icon('M17 10.5V7a1 1 0 0 0-1-1H4a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-3.5l4 4v-11l-4 4z'),
  dialpad: icon('M5 2h3v3H5zm5.5 0h3v3h-3zM16 2h3v3h-3zM5 7.5h3v3H5zm5.5 0h3v3h-3zM16 7.5h3v3h-3zM5 13h3v3H5zm5.5 0h3v3h-3zM16 13h3v3h-3zm-5.5 5.5h3v3h-3z'),
  pip: icon('M19 7h-8v6h8V7zm2-4H3a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h18a2 2 0 0 0 2-2V5a2 2 0 0 0-2-2zm0 16.01H3V4.98h18v14.03z'),
  speaker: icon('M3 9v6h4l5 5V4L7 9H3zm13.5 3A4.5 4.5 0 0 0 14 7.97v8.05c1.48-.73 2.5-2.25 2.5-4.02z'),
} as const;
