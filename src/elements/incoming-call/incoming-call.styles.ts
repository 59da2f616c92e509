import { css } from 'lit';

export const styles = css`
  :host(:not([open])) { display: none; }
  [part='base'] {
    display: grid; gap: var(--_space); padding: calc(var(--_space) * 2);
    background: var(--_surface); border: 1px solid var(--_border); border-radius: var(--_radius);
  }
  [part='title'] { margin: 0; font-size: 0.85em; font-weight: 600; color: var(--_muted); text-transform: uppercase; letter-spacing: 0.04em; }
  [part='caller'] { margin: 0; font-size: 1.25em; font-weight: 600; overflow-wrap: anywhere; }
  [part='kind'], [part='caller-id'] { margin: 0; color: var(--_muted); }
  [part='caller-id'] { overflow-wrap: anywhere; }
  [part='actions'] { display: flex; flex-wrap: wrap; gap: var(--_space); }
`;
