import { css } from 'lit';

// `!important` inside a shadow root beats `!important` from the page (the cascade favours the inner context for
// important rules), so a page's global `* { display: none !important }` cannot hide or move the widget.
export const styles = css`
  :host {
    display: block !important;
    position: fixed !important;
    z-index: var(--call-widget-z-index, 2147483000) !important;
    inset: auto var(--call-widget-offset, 1rem) var(--call-widget-offset, 1rem) auto !important;
    visibility: visible !important;
    opacity: 1 !important;
    pointer-events: none;
  }
  :host([position='bottom-left']) { inset: auto auto var(--call-widget-offset, 1rem) var(--call-widget-offset, 1rem) !important; }
  :host([position='top-right']) { inset: var(--call-widget-offset, 1rem) var(--call-widget-offset, 1rem) auto auto !important; }
  :host([position='top-left']) { inset: var(--call-widget-offset, 1rem) auto auto var(--call-widget-offset, 1rem) !important; }

  /* Everything the page could leak in through inheritance is set again here. */
  [part='root'] {
    all: initial;
    display: flex;
    flex-direction: column;
    align-items: flex-end;
    gap: var(--_space);
    pointer-events: auto;
    font-family: var(--_font);
    font-size: var(--_font-size);
    line-height: 1.4;
    color: var(--_text);
    text-align: start;
  }
  :host([position^='top']) [part='root'] { flex-direction: column-reverse; }
  :host([position$='left']) [part='root'] { align-items: flex-start; }

  [part='launcher'] {
    position: relative;
    width: 3.5rem;
    height: 3.5rem;
    padding: 0;
    border-radius: 50%;
    border-color: var(--_accent);
    background: var(--_accent);
    color: var(--_on-accent);
    box-shadow: 0 2px 10px rgb(0 0 0 / 0.3);
  }
  [part='launcher'] svg { width: 1.6rem; height: 1.6rem; }
  [part='badge'] {
    position: absolute; top: 0.1rem; right: 0.1rem; width: 0.85rem; height: 0.85rem; border-radius: 50%;
    border: 2px solid var(--_bg); background: var(--_muted);
  }
  [data-connection='connected'] [part='badge'] { background: var(--_success); }
  [data-ringing] [part='badge'] { background: var(--_danger); }

  [part='panel'] {
    display: grid;
    gap: var(--_space);
    width: min(22rem, calc(100vw - 2rem));
    max-height: calc(100vh - 6rem);
    overflow: auto;
    padding: calc(var(--_space) * 2);
    background: var(--_bg);
    color: var(--_text);
    border: 1px solid var(--_border);
    border-radius: calc(var(--_radius) * 1.5);
    box-shadow: 0 6px 24px rgb(0 0 0 / 0.25);
  }
  [part='panel'][hidden] { display: none; }
  [part='header'] { display: flex; align-items: center; justify-content: space-between; gap: var(--_space); }
  [part='title'] { margin: 0; font-size: 1.05em; font-weight: 600; }
  [part='close-button'], [part='recent-button'] { position: relative; min-width: 2.25rem; min-height: 2.25rem; padding: 0; }
  [part='title'] { flex: 1; }
  [part='recent-button'] svg { width: 1.25rem; height: 1.25rem; }
  [aria-pressed='true'] { color: var(--_accent); }
  [part='missed-count'] {
    position: absolute; top: -0.3rem; left: -0.3rem; min-width: 1.1rem; border-radius: 1rem;
    background: var(--_danger); color: #fff; font: 700 0.7rem/1.1rem sans-serif;
  }
  call-history:not([hidden]) { display: block; }
  [part='videos'] { display: grid; grid-template-columns: 2fr 1fr; gap: var(--_space); align-items: end; }
  call-provider, call-status, call-dialer, incoming-call, call-controls, video-view { display: block; }
  incoming-call:not([open]) { display: none; }
  :host(:not([video])) call-dialer::part(video-toggle) { display: none; }
  incoming-call.audio-only::part(answer-button) { display: none; }
`;
