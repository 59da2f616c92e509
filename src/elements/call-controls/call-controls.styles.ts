import { css } from 'lit';

export const styles = css`
  [part='base'] { display: flex; flex-wrap: wrap; align-items: center; gap: var(--_space); }
  [part='output'] { display: inline-flex; align-items: center; gap: 0.35em; }
  [part='keypad'] {
    display: grid; grid-template-columns: repeat(3, minmax(2.75rem, 4rem)); gap: calc(var(--_space) / 2);
    margin-top: var(--_space); padding: var(--_space); background: var(--_surface); border-radius: var(--_radius); width: max-content;
  }
`;
