// An esbuild plugin that squeezes the whitespace and comments out of Lit `css\`...\`` templates in `*.styles.ts`
// files (esbuild minifies the JavaScript around them but leaves template text alone). Conservative on purpose:
// it only drops comments, collapses whitespace and trims it next to `{ } ; ,` and after `:` — never before `:`, where
// a space can change what a selector means.
import { readFile } from 'node:fs/promises';

export function squeezeCss(text) {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\s+/g, ' ')
    .replace(/\s*([{};,])\s*/g, '$1')
    .replace(/:\s+/g, ':') // never a space after a colon in a selector; in a declaration it is noise
    .replace(/\s+!important/g, '!important')
    .replace(/;}/g, '}')
    .trim();
}

/** Rewrites the literal parts of every css`` template (interpolations `${...}` are kept as they are). */
export function minifyCssTemplates(source) {
  return source.replace(/css`([^`]*)`/g, (_, body) => {
    const parts = body.split(/(\$\{[^}]*\})/);
    return `css\`${parts.map((p, i) => (i % 2 ? p : squeezeCss(p))).join('')}\``;
  });
}

export const minifyCssPlugin = {
  name: 'minify-lit-css',
  setup(build) {
    build.onLoad({ filter: /\.styles\.ts$/ }, async (args) => ({
      contents: minifyCssTemplates(await readFile(args.path, 'utf8')),
      loader: 'ts',
    }));
  },
};
