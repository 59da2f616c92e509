// `npx cem analyze --config custom-elements-manifest.config.mjs` (run by `npm run build` and before Storybook):
// custom-elements.json from the JSDoc of the element classes (@summary @slot @event @csspart @cssproperty) and
// Lit's @property decorators. Generated, not committed.

/**
 * Our tags are registered through `defineElement('tag', Class)` (guarded against double registration), which the
 * analyzer does not know: record those calls and give each class its tag name and a definition export.
 */
function defineElementPlugin() {
  const defined = []; // { tag, className, path }
  return {
    name: 'define-element',
    analyzePhase({ ts, node, moduleDoc }) {
      if (!ts.isCallExpression(node) || !ts.isIdentifier(node.expression) || node.expression.text !== 'defineElement') return;
      const [tag, cls] = node.arguments;
      if (tag && cls && ts.isStringLiteral(tag) && ts.isIdentifier(cls)) defined.push({ tag: tag.text, className: cls.text, path: moduleDoc.path });
    },
    packageLinkPhase({ customElementsManifest }) {
      const modules = customElementsManifest.modules;
      for (const { tag, className, path } of defined) {
        const home = modules.find((m) => m.declarations?.some((d) => d.kind === 'class' && d.name === className));
        const decl = home?.declarations.find((d) => d.name === className);
        if (!decl) continue;
        decl.tagName = tag;
        decl.customElement = true;
        const definer = modules.find((m) => m.path === path);
        definer?.exports?.push({ kind: 'custom-element-definition', name: tag, declaration: { name: className, module: home.path } });
      }
      // `defineElement`'s own `customElements.define(tag, ctor)` is not a definition of a tag named "tag".
      const classes = new Set(modules.flatMap((m) => (m.declarations ?? []).filter((d) => d.kind === 'class').map((d) => d.name)));
      for (const m of modules) {
        if (m.exports) m.exports = m.exports.filter((e) => e.kind !== 'custom-element-definition' || classes.has(e.declaration?.name));
      }
      // `CallElement.emit(type, …)` is the generic dispatcher, not an event named "type".
      for (const m of modules) for (const d of m.declarations ?? []) if (d.events) d.events = d.events.filter((e) => e.name && e.name !== 'type');
    },
  };
}

export default {
  globs: ['src/elements/**/*.ts', 'src/context/**/*.ts'],
  exclude: ['src/**/*.styles.ts', 'src/elements/shared/translations/**'],
  outdir: '.',
  litelement: true,
  packagejson: false,
  plugins: [defineElementPlugin()],
};
