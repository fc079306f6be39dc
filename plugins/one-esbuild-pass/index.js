// serverless-esbuild (1.57) runs one esbuild build per handler file, and each build parses again
// every module the handlers share (the AWS SDK, Powertools, zod): the 13 handler files of a local
// stage took ~11 CPU-s and ~6 s on 2 cores at every `sls offline start`, `sls package` and
// `sls deploy`. This plugin gives serverless-esbuild one build of all of them instead (~3.6 CPU-s,
// ~2 s), with the same options and the same output paths. Without code splitting (esbuild's
// default) each output is still a whole bundle of its own handler, tree-shaken on its own: the
// packaging test and `npm run bench:bundles` check each function's zip.
//
// It replaces the plugin's `bundle` step and fills what the rest of serverless-esbuild reads from
// it (buildCache, buildResults), so it is tied to serverless-esbuild's version, pinned in
// package.json; a test checks the outputs against the per-handler builds. The first build of a
// process is kept by outputCache.js, so that later processes with the same inputs copy it.
const esbuild = require('esbuild');
const { outputCache } = require('./outputCache');

/** serverless-esbuild's own settings, which its bundle step leaves out of esbuild's options. */
const PLUGIN_SETTINGS = new Set([
  'concurrency',
  'zipConcurrency',
  'exclude',
  'nativeZip',
  'packager',
  'packagePath',
  'watch',
  'keepOutputDirectory',
  'packagerOptions',
  'installExtraArgs',
  'outputFileExtension',
  'outputBuildFolder',
  'outputWorkFolder',
  'nodeExternals',
  'skipBuild',
  'skipRebuild',
  'skipBuildExcludeFns',
  'stripEntryResolveExtensions',
  'disposeContext',
]);

/** serverless-esbuild settings whose effect its bundle step has and this one does not. */
const NOT_DONE_HERE = ['skipRebuild', 'metafile'];

const asArray = (value) => (value === undefined ? [] : [].concat(value));

/** esbuild's options for serverless-esbuild's `buildOptions`, as its bundle step derives them. */
function esbuildOptions(buildOptions, plugins) {
  const options = Object.fromEntries(Object.entries(buildOptions).filter(([name]) => !PLUGIN_SETTINGS.has(name)));
  const exclude = asArray(buildOptions.exclude);
  options.external = [...asArray(buildOptions.external), ...(exclude.includes('*') ? [] : exclude)];
  options.plugins = plugins;
  if (buildOptions.outputFileExtension !== '.js') options.outExtension = { '.js': buildOptions.outputFileExtension };
  return options;
}

/** Where esbuild writes the bundle of `entry`, relative to the build folder (as serverless-esbuild names it). */
const bundlePathOf = (entry, extension) => entry.slice(0, entry.lastIndexOf('.')) + extension;

/**
 * serverless-esbuild's `bundle`, in one esbuild build: `this` is the serverless-esbuild plugin.
 * The build's context stays for the rebuilds its file watcher asks for under `sls offline`.
 */
async function bundleInOnePass() {
  const { buildOptions } = this;
  const notDone = NOT_DONE_HERE.filter((name) => buildOptions[name]);
  if (notDone.length > 0) {
    throw new Error(`one-esbuild-pass does not do custom.esbuild.${notDone.join(', ')}: remove it or the plugin`);
  }
  this.prepare();
  const { buildDirPath } = this;
  const entries = [...new Set(this.functionEntries.map(({ entry }) => entry))];
  const key = entries.join('\n');
  let result;
  if (this.onePass?.key !== key) {
    await this.onePass?.dispose();
    const options = {
      ...esbuildOptions(buildOptions, this.plugins),
      entryPoints: entries,
      outdir: buildDirPath,
      // Outputs mirror the entries' paths from the service folder, as the per-handler builds wrote them.
      outbase: '.',
      // The files the build read and wrote, for the output cache.
      metafile: true,
    };
    const cache = outputCache({
      options,
      entries,
      workingDir: options.absWorkingDir ?? process.cwd(),
      // The files serverless-esbuild loaded esbuild plugins or options from.
      sources: [buildOptions.plugins, buildOptions.config].filter((path) => typeof path === 'string'),
    });
    // The context is made either way: the file watcher's rebuilds go through it.
    const context = await esbuild.context(options);
    let disposed;
    const onePass = {
      key,
      rebuild: () => context.rebuild(),
      dispose: () => {
        if (this.onePass === onePass) this.onePass = undefined;
        disposed ??= context.dispose();
        return disposed;
      },
    };
    this.onePass = onePass;
    result = cache ? await cache.restoreOrBuild(buildDirPath, onePass.rebuild) : await onePass.rebuild();
  } else {
    result = await this.onePass.rebuild();
  }
  const context = this.onePass;
  const extension = buildOptions.outputFileExtension;
  this.buildCache = Object.fromEntries(
    entries.map((entry) => [entry, { bundlePath: bundlePathOf(entry, extension), entry, result, context }]),
  );
  this.buildResults = this.functionEntries
    .filter(({ func }) => func !== null)
    .map(({ entry, func, functionAlias }) => ({ bundlePath: bundlePathOf(entry, extension), func, functionAlias }));
}

class OneEsbuildPass {
  constructor(serverless) {
    const bundler = serverless.pluginManager.plugins.find(
      (plugin) => plugin.constructor.name === 'EsbuildServerlessPlugin',
    );
    if (!bundler) throw new serverless.classes.Error('one-esbuild-pass: list it after serverless-esbuild in plugins');
    bundler.bundle = bundleInOnePass.bind(bundler);
  }
}

module.exports = OneEsbuildPass;
module.exports.esbuildOptions = esbuildOptions;
module.exports.bundleInOnePass = bundleInOnePass;
