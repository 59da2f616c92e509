import { LitElement, type PropertyValues } from 'lit';
import { property } from 'lit/decorators.js';
import { LocalizeController, registerTranslation } from './localize.js';
import { baseStyles } from './theme.styles.js';
import en from './translations/en.js';

// Explicit, not a bare import: bundlers drop bare imports of modules the package declares side-effect free.
registerTranslation(en);

/**
 * @attribute lang - The language of the element's text (`en`, `sv`, …); unset follows the nearest ancestor's
 * `lang`, then the document's, then English.
 *
 * The tiny base of every calling element: the `theme` attribute (own or inherited from an ancestor such as
 * `<call-provider theme="dark">`), localization, shared styles, and typed event dispatch.
 */
export class CallElement extends LitElement {
  static override styles = [baseStyles];

  /** `light` or `dark`; unset follows an ancestor's `theme`, else `prefers-color-scheme`. */
  @property({ reflect: true }) theme?: 'light' | 'dark';

  protected readonly localize = new LocalizeController(this);

  protected override willUpdate(changed: PropertyValues): void {
    super.willUpdate(changed);
    // The styles key off `data-theme` so an inherited theme and an own one take the same path.
    const theme = this.theme ?? this.parentElement?.closest('[theme]')?.getAttribute('theme');
    if (theme === 'light' || theme === 'dark') this.setAttribute('data-theme', theme);
    else this.removeAttribute('data-theme');
  }

  /** Dispatches a bubbling, composed `CustomEvent`; returns false when a listener called `preventDefault()`. */
  protected emit<K extends keyof GlobalEventHandlersEventMap>(
    type: K,
    detail: GlobalEventHandlersEventMap[K] extends CustomEvent<infer D> ? D : never,
    options: { cancelable?: boolean } = {},
  ): boolean {
    return this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true, cancelable: options.cancelable ?? false }));
  }
}

/** Registers a tag unless it already is (a second copy of the bundle on a page must not throw). */
export function defineElement(tag: string, ctor: CustomElementConstructor): void {
  if (!customElements.get(tag)) customElements.define(tag, ctor);
}
