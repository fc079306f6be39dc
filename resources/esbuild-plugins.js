const { readFile, writeFile } = require('node:fs/promises');
const { basename, dirname, extname, join, resolve } = require('node:path');

/**
 * Packages that a handler loads with `await import()` on first use and that are too big to
 * compile at every cold start: each is bundled into its own file next to the bundle of each
 * handler that imports it, `<handler>.<package>.mjs`, and the handler's dynamic import is pointed
 * at it. serverless-esbuild zips a file named after a handler's bundle (`machineDiagram.*`) with
 * that function only.
 */
const LAZY_PACKAGES = ['beautiful-mermaid'];

/**
 * The import path a lazy package gets during the build. One build holds every handler
 * (plugins/one-esbuild-pass), and a module is resolved once for all of them, so the handler's
 * name is put in afterwards, in each output that kept the import.
 */
const placeholder = (name) => `./__lazy__.${name}.mjs`;

/** The esbuild plugin that makes `packages` lazy. */
const lazyPackages = (packages) => ({
  name: 'lazy-packages',
  setup(build) {
    const options = build.initialOptions;
    options.metafile = true;
    const filter = new RegExp(`^(${packages.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`);
    build.onResolve({ filter }, (args) =>
      args.kind === 'dynamic-import' ? { path: placeholder(args.path), external: true } : undefined,
    );
    build.onEnd(async (result) => {
      if (result.errors.length > 0 || !result.metafile) return;
      const workingDir = options.absWorkingDir ?? process.cwd();
      for (const [output, { imports }] of Object.entries(result.metafile.outputs)) {
        const lazy = packages.filter((name) => imports.some((i) => i.external && i.path === placeholder(name)));
        if (lazy.length === 0) continue;
        const file = resolve(workingDir, output);
        const handler = basename(file, extname(file));
        let code = await readFile(file, 'utf8');
        for (const name of lazy) {
          code = code.replaceAll(placeholder(name), `./${handler}.${name}.mjs`);
          const lazyBuild = await build.esbuild.build({
            entryPoints: [name],
            absWorkingDir: workingDir,
            outfile: join(dirname(file), `${handler}.${name}.mjs`),
            bundle: true,
            minify: options.minify,
            target: options.target,
            platform: 'node',
            format: 'esm',
            logLevel: 'warning',
            metafile: true,
          });
          // What it read and wrote belongs to the build (plugins/one-esbuild-pass caches by them).
          Object.assign(result.metafile.inputs, lazyBuild.metafile.inputs);
          Object.assign(result.metafile.outputs, lazyBuild.metafile.outputs);
        }
        await writeFile(file, code);
      }
    });
  },
});

/** serverless-esbuild's `plugins`: see custom.esbuild in serverless.yml. */
module.exports = [lazyPackages(LAZY_PACKAGES)];
module.exports.lazyPackages = lazyPackages;
