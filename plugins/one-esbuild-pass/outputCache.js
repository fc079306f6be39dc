// The outputs of one-esbuild-pass's first build in a process, kept under
// `.build/one-pass-cache/<key>/` with a hash of every file the build read (its metafile's
// inputs). A later `sls offline start` or `sls package` whose options, entries and input files
// are all the same copies them instead of building again: every test stack, each `sls package`
// of the same stage, and a user's second `npm start` skip the ~3 CPU-s of esbuild.
//
// The key covers what the inputs cannot show: esbuild's version, the options, the entries, the
// working folder, and the source of this plugin and of the esbuild plugins file. The inputs
// cover the rest, node_modules included (the lazy packages' builds add theirs to the metafile).
const { createHash, randomUUID } = require('node:crypto');
const { cp, mkdir, readFile, readdir, rename, rm, stat, writeFile } = require('node:fs/promises');
const { dirname, join, relative, resolve } = require('node:path');
const esbuild = require('esbuild');

/** Entries kept; older ones (by when they were written) are removed. */
const KEPT_ENTRIES = 8;
/** How long a process waits for another's build of the same outputs before building them itself. */
const WAIT_FOR_OTHER_BUILD_MS = 60_000;
/** What restoreOrBuild returns for outputs copied from the cache (in place of esbuild's result). */
const RESTORED = Object.freeze({ errors: [], warnings: [], restoredFromCache: true });

/** Whether a process of that pid runs (a lock whose holder died is free). */
function isAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

const sha256 = (data) => createHash('sha256').update(data).digest('hex');

/** A hash of the file's bytes; files that cannot be read (a namespace, a removed file) hash as absent. */
async function hashOfFile(path) {
  try {
    return sha256(await readFile(path));
  } catch {
    return 'absent';
  }
}

async function hashesOf(paths, workingDir) {
  const hashes = await Promise.all(paths.map((path) => hashOfFile(resolve(workingDir, path))));
  return Object.fromEntries(paths.map((path, index) => [path, hashes[index]]));
}

/**
 * The cache of builds made with `options` (esbuild's, plugins left out) and `pluginsFile` (the
 * path serverless-esbuild loaded the esbuild plugins from, if any) in `workingDir`.
 */
function outputCache({ options, entries, workingDir, pluginsFile }) {
  const root = join(workingDir, '.build', 'one-pass-cache');
  const sources = [__filename, join(__dirname, 'index.js'), ...(pluginsFile ? [resolve(workingDir, pluginsFile)] : [])];

  async function keyOf() {
    // Where the outputs go is not part of what they are.
    const { plugins: _plugins, outdir: _outdir, ...rest } = options;
    const sourceHashes = await Promise.all(sources.map(hashOfFile));
    return sha256(JSON.stringify({ esbuild: esbuild.version, options: rest, entries, workingDir, sourceHashes }));
  }

  /**
   * The build's outputs in `outdir`: copied from the cache when it holds them, else built by
   * `build()` (esbuild's result, with its metafile) and kept. Processes that start together (test
   * lanes, a user's two terminals) build once: the others wait for that build's outputs.
   */
  async function restoreOrBuild(outdir, build) {
    const entry = join(root, await keyOf());
    const lock = `${entry}.lock`;
    if (await restore(entry, outdir)) return RESTORED;
    const deadline = Date.now() + WAIT_FOR_OTHER_BUILD_MS;
    let locked = await takeLock(lock);
    while (!locked && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (await restore(entry, outdir)) return RESTORED;
      locked = await takeLock(lock);
    }
    try {
      // Stored since our first look; or else never, with these inputs, or its builder died: build here.
      if (locked && (await restore(entry, outdir))) return RESTORED;
      const result = await build();
      await store(entry, outdir, result.metafile);
      return result;
    } finally {
      if (locked) await rm(lock, { force: true });
    }
  }

  /** Copies a matching build's outputs into `outdir`; false when there is none (or it cannot be read). */
  async function restore(entry, outdir) {
    try {
      const manifest = JSON.parse(await readFile(join(entry, 'manifest.json'), 'utf8'));
      const current = await hashesOf(Object.keys(manifest.inputs), workingDir);
      if (Object.entries(manifest.inputs).some(([path, hash]) => current[path] !== hash)) return false;
      await Promise.all(
        manifest.outputs.map(async (output) => {
          await mkdir(dirname(join(outdir, output)), { recursive: true });
          await cp(join(entry, 'files', output), join(outdir, output));
        }),
      );
      return true;
    } catch {
      return false;
    }
  }

  /** Keeps the outputs the build wrote into `outdir`, as its metafile lists them. */
  async function store(entry, outdir, metafile) {
    const staging = `${entry}.${randomUUID()}`;
    try {
      const outputs = Object.keys(metafile.outputs).map((output) => relative(outdir, resolve(workingDir, output)));
      await Promise.all(
        outputs.map(async (output) => {
          await mkdir(dirname(join(staging, 'files', output)), { recursive: true });
          await cp(join(outdir, output), join(staging, 'files', output));
        }),
      );
      const inputs = await hashesOf(Object.keys(metafile.inputs), workingDir);
      await writeFile(join(staging, 'manifest.json'), JSON.stringify({ inputs, outputs }));
      // A build of the same key with other inputs may be there: the latest inputs win.
      await rm(entry, { recursive: true, force: true });
      await rename(staging, entry);
      await evictOld();
    } catch {
      // A cache that cannot be written costs the next start a build, nothing more.
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** The lock of a build in progress: a file holding the builder's pid, taken over once that process is gone. */
  async function takeLock(lock) {
    try {
      await mkdir(root, { recursive: true });
      await writeFile(lock, String(process.pid), { flag: 'wx' });
      return true;
    } catch (error) {
      if (error.code !== 'EEXIST' || isAlive(Number(await readFile(lock, 'utf8').catch(() => '')))) return false;
      await rm(lock, { force: true });
      return takeLock(lock);
    }
  }

  return { restoreOrBuild };

  async function evictOld() {
    const names = (await readdir(root)).filter((name) => /^[0-9a-f]{64}$/.test(name));
    const written = await Promise.all(
      names.map(async (name) => ({ name, at: (await stat(join(root, name))).mtimeMs })),
    );
    const old = written.sort((a, b) => b.at - a.at).slice(KEPT_ENTRIES);
    await Promise.all(old.map(({ name }) => rm(join(root, name), { recursive: true, force: true })));
  }
}

module.exports = { outputCache };
