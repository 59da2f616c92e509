import { css } from 'lit';

// Each public `--call-*` property feeds a private `--_*` one with a per-theme default, so a page can set a token
// once (on the element, the provider or :root) and both themes honour it.
const light = css`
  --_bg: var(--call-color-background, #ffffff);
  --_surface: var(--call-color-surface, #f3f5f7);
  --_text: var(--call-color-text, #1d232a);
  --_muted: var(--call-color-text-muted, #545d68);
  --_border: var(--call-color-border, #8a96a3);
  --_accent: var(--call-color-accent, #0b5cad);
  --_on-accent: var(--call-color-on-accent, #ffffff);
  --_success: var(--call-color-success, #1a7f37);
  --_on-success: var(--call-color-on-success, #ffffff);
  --_danger: var(--call-color-danger, #c62828);
  --_on-danger: var(--call-color-on-danger, #ffffff);
  --_focus: var(--call-color-focus, #0b5cad);
  color-scheme: light;
`;
const dark = css`
  --_bg: var(--call-color-background, #0d1117);
  --_surface: var(--call-color-surface, #1b222c);
  --_text: var(--call-color-text, #e6edf3);
  --_muted: var(--call-color-text-muted, #a2adb9);
  --_border: var(--call-color-border, #6e7781);
  --_accent: var(--call-color-accent, #58a6ff);
  --_on-accent: var(--call-color-on-accent, #0d1117);
  --_success: var(--call-color-success, #3fb950);
  --_on-success: var(--call-color-on-success, #0d1117);
  --_danger: var(--call-color-danger, #ff7b72);
  --_on-danger: var(--call-color-on-danger, #0d1117);
  --_focus: var(--call-color-focus, #58a6ff);
  color-scheme: dark;
`;

/** Tokens, both themes, and the few base rules every element shares. */
export const baseStyles = css`
  :host {
    ${light}
    --_radius: var(--call-radius, 8px);
    --_space: var(--call-spacing, 0.5rem);
    --_font: var(--call-font-family, system-ui, -apple-system, 'Segoe UI', sans-serif);
    --_font-size: var(--call-font-size, 0.9375rem);
    display: block;
    box-sizing: border-box;
    font-family: var(--_font);
    font-size: var(--_font-size);
    line-height: 1.4;
    color: var(--_text);
    /* Painted so the theme's text keeps its contrast whatever the page behind is. */
    background: var(--_bg);
  }
  @media (prefers-color-scheme: dark) {
    :host(:not([data-theme='light'])) { ${dark} }
  }
  :host([data-theme='dark']) { ${dark} }
  :host([hidden]) { display: none !important; }
  *, *::before, *::after { box-sizing: inherit; }

  button, select, input {
    font: inherit;
    color: inherit;
  }
  button {
    display: inline-flex;
    align-items: center;
    justify-content: center;
    gap: calc(var(--_space) / 2);
    min-height: 2.5rem;
    min-width: 2.5rem;
    padding: 0 calc(var(--_space) * 1.5);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_bg);
    color: var(--_text);
    cursor: pointer;
  }
  button:disabled, select:disabled, input:disabled { opacity: 0.55; cursor: not-allowed; }
  button[aria-pressed='true'] { background: var(--_text); color: var(--_bg); }
  button.primary { background: var(--_success); color: var(--_on-success); border-color: var(--_success); }
  button.accent { background: var(--_accent); color: var(--_on-accent); border-color: var(--_accent); }
  button.danger { background: var(--_danger); color: var(--_on-danger); border-color: var(--_danger); }
  input, select {
    min-height: 2.5rem;
    padding: 0 var(--_space);
    border: 1px solid var(--_border);
    border-radius: calc(var(--_radius) / 2);
    background: var(--_bg);
  }
  input[aria-invalid='true'] { border-color: var(--_danger); }
  :focus-visible { outline: 2px solid var(--_focus); outline-offset: 2px; }
  svg { width: 1.25em; height: 1.25em; fill: currentColor; flex: none; }
  .error { color: var(--_danger); margin: calc(var(--_space) / 2) 0 0; }
  .error:empty { display: none; }
  .sr-only {
    position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
    clip: rect(0 0 0 0); white-space: nowrap; border: 0;
  }
`;
