const { basename, extname, join } = require('node:path');

/**
 * Packages that a handler loads with `await import()` on first use and that are too big to
 * compile at every cold start: each is bundled into its own file next to the handler's bundle,
 * `<handler>.<package>.mjs`, and the dynamic import is pointed at it. serverless-esbuild zips a
 * file named after a handler's bundle (`machineDiagram.*`) with that function only.
 */
const LAZY_PACKAGES = ['beautiful-mermaid'];

/** serverless-esbuild's `plugins`: see custom.esbuild in serverless.yml. */
const lazyPackages = {
  name: 'lazy-packages',
  setup(build) {
    const { entryPoints, outdir, minify, target } = build.initialOptions;
    const entry = Array.isArray(entryPoints) ? String(entryPoints[0]) : undefined;
    if (!entry || !outdir) return;
    const handler = basename(entry, extname(entry));
    const wanted = new Set();
    const filter = new RegExp(
      `^(${LAZY_PACKAGES.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`,
    );
    build.onResolve({ filter }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      wanted.add(args.path);
      return { path: `./${handler}.${args.path}.mjs`, external: true };
    });
    build.onEnd(async (result) => {
      if (result.errors.length > 0) return;
      for (const name of wanted) {
        await build.esbuild.build({
          entryPoints: [name],
          absWorkingDir: build.initialOptions.absWorkingDir,
          outfile: join(outdir, `${handler}.${name}.mjs`),
          bundle: true,
          minify,
          target,
          platform: 'node',
          format: 'esm',
          logLevel: 'warning',
        });
      }
    });
  },
};

module.exports = [lazyPackages];
