import { css } from 'lit';

export const styles = css`
  form { display: grid; grid-template-columns: minmax(0, 1fr); gap: var(--_space); }
  fieldset { margin: 0; padding: 0; border: 0; min-width: 0; }
  [part='modes'] { display: flex; flex-wrap: wrap; gap: calc(var(--_space) / 2); }
  [part~='mode'] {
    display: inline-flex; align-items: center; gap: 0.35em; min-height: 2.25rem;
    padding: 0 var(--_space); border: 1px solid var(--_border); border-radius: 999px; cursor: pointer;
  }
  [part~='mode-selected'] { background: var(--_accent); color: var(--_on-accent); border-color: var(--_accent); }
  [part~='mode'] input { margin: 0; accent-color: currentColor; }
  [part~='mode']:focus-within { outline: 2px solid var(--_focus); outline-offset: 2px; }
  [part~='mode'] input:focus-visible { outline: none; }
  [part='field'] { display: grid; gap: 0.25rem; }
  [part='label'] { font-weight: 600; }
  [part='row'] { display: flex; flex-wrap: wrap; align-items: center; gap: var(--_space); }
  [part='keypad'] {
    display: grid; grid-template-columns: repeat(3, minmax(2.75rem, 4rem)); gap: calc(var(--_space) / 2);
    padding: var(--_space); background: var(--_surface); border-radius: var(--_radius); width: max-content;
  }
  [part='headers'] { display: grid; grid-template-columns: minmax(0, 1fr); gap: calc(var(--_space) / 2); }
  [part='headers'] legend { font-weight: 600; margin-bottom: 0.25rem; padding: 0; }
  [part='header-row'] { display: flex; gap: calc(var(--_space) / 2); }
  [part='header-row'] input { flex: 1 1 0; width: 0; min-width: 0; }
  [part='video-toggle'] { display: inline-flex; align-items: center; gap: 0.4em; justify-self: start; cursor: pointer; }
  [part='video-toggle'] input { width: 1.1em; height: 1.1em; margin: 0; min-height: 0; }
  [part='call-button'] { justify-self: start; }
`;
