import { css } from 'lit';

export const styles = css`
  :host { padding: var(--_space) 0; }
  [part='base'] { display: flex; flex-wrap: wrap; align-items: baseline; gap: var(--_space); }
  [part='state'] { font-weight: 600; }
  [part='timer'] { font-variant-numeric: tabular-nums; }
  [part='detail'] { flex-basis: 100%; margin: 0; color: var(--_muted); }
  [part='error'] { flex-basis: 100%; margin: 0; color: var(--_danger); }
`;
