// The outputs of one-esbuild-pass's first build in a process, kept under
// `.build/one-pass-cache/<key>/` with what the build depended on. A later `sls offline start` or
// `sls package` whose options, entries and files are all the same copies them instead of building
// again: every test stack, each `sls package` of the same stage, and a user's second `npm start`
// skip the ~3 CPU-s of esbuild.
//
// What a restore checks, so that it never gives other bundles than a build would:
// - the key: esbuild's version, the options, the entries, the working folder (and the output
//   folder when there are source maps, whose paths are relative to it), the source of this
//   plugin and of the files the esbuild plugins and config come from, and the project's
//   package.json, lock file and tsconfig.json (a dependency installed, a compiler setting);
// - every file the build read (its metafile's inputs; the lazy packages' builds add theirs);
// - every project folder it read from outside node_modules: the names in it (a file added there
//   can change what an import resolves to) and its own package.json and tsconfig.json.
// A build during which one of those files changed is not kept.
const { createHash, randomUUID } = require('node:crypto');
const { cp, mkdir, readFile, readdir, rename, rm, stat, writeFile } = require('node:fs/promises');
const { dirname, join, relative, resolve } = require('node:path');
const esbuild = require('esbuild');

/** Entries kept; older ones (by when they were written) are removed. */
const KEPT_ENTRIES = 8;
/** How long a process waits for another's build of the same outputs before building them itself. */
const WAIT_FOR_OTHER_BUILD_MS = 60_000;
/** Files changed this long before a build started may have been read half-written: not kept. */
const MTIME_SLACK_MS = 2_000;
/** A lock file without a pid yet is being written; one left so for this long was abandoned. */
const EMPTY_LOCK_MS = 10_000;
/** Staging folders and locks of processes that died mid-way are removed after this long. */
const LEFTOVER_MS = 3_600_000;
/** The project files whose change can change every bundle without being an input. */
const PROJECT_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'jsconfig.json'];
/** The files of a folder that can change how the modules in it are read or resolved. */
const FOLDER_FILES = ['package.json', 'tsconfig.json', 'jsconfig.json'];
/** What restoreOrBuild returns for outputs copied from the cache (in place of esbuild's result). */
const RESTORED = Object.freeze({ errors: [], warnings: [], restoredFromCache: true });

const sha256 = (data) => createHash('sha256').update(data).digest('hex');

/** Whether a process of that pid runs (a lock whose holder died is free). */
function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** A hash of the file's bytes, `absent` when there is none; any other error is thrown (no cache then). */
async function hashOfFile(path) {
  try {
    return sha256(await readFile(path));
  } catch (error) {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return 'absent';
    throw error;
  }
}

/**
 * A hash of the files in a folder that change how the modules under it are read, and, for a
 * folder an input was read from (`list:`), of its entry names: a file added beside an input can
 * change what an import resolves to.
 */
async function hashOfFolder(path, listed) {
  const names = listed
    ? await readdir(path).catch((error) => {
        if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return ['(absent)'];
        throw error;
      })
    : [];
  const files = await Promise.all(FOLDER_FILES.map((name) => hashOfFile(join(path, name))));
  return sha256(JSON.stringify([names.sort(), files]));
}

/** `list:<folder>` or `files:<folder>`, as foldersOf names them. */
const hashOfNamedFolder = (workingDir) => (name) => {
  const [kind, folder] = name.split(/:(.*)/s);
  return hashOfFolder(resolve(workingDir, folder), kind === 'list');
};

async function hashesOf(names, hashOne) {
  const hashes = await Promise.all(names.map(hashOne));
  return Object.fromEntries(names.map((name, index) => [name, hashes[index]]));
}

/** Copies `paths` (relative) from one folder to the same places under another. */
async function copyFiles(from, to, paths) {
  await Promise.all(
    paths.map(async (path) => {
      await mkdir(dirname(join(to, path)), { recursive: true });
      await cp(join(from, path), join(to, path));
    }),
  );
}

/**
 * The project folders (outside node_modules) the inputs were read from (`list:`), and their
 * parents up to the working folder, whose listing is left out (`files:`): the root's changes with
 * every build and test run.
 */
function foldersOf(inputs) {
  const listed = new Set();
  const parents = new Set();
  for (const input of inputs) {
    if (input.includes('node_modules') || input.includes(':')) continue;
    const folder = dirname(input);
    if (folder === '.' || folder.startsWith('..')) continue;
    listed.add(folder);
    for (let parent = dirname(folder); parent !== '.'; parent = dirname(parent)) parents.add(parent);
  }
  return [
    ...[...listed].map((folder) => `list:${folder}`),
    ...[...parents].filter((p) => !listed.has(p)).map((p) => `files:${p}`),
  ];
}

/**
 * The cache of builds made with `options` (esbuild's) in `workingDir`; `sources` are the files
 * the esbuild plugins and config were loaded from. Without a cache (`undefined`) when plugins
 * came from elsewhere: their code could change unseen.
 */
function outputCache({ options, entries, workingDir, sources }) {
  if ((options.plugins ?? []).length > 0 && sources.length === 0) return undefined;
  const root = join(workingDir, '.build', 'one-pass-cache');

  async function keyOf() {
    // Where the outputs go is not part of what they are, but for source maps' relative paths.
    const { plugins: _plugins, outdir, ...rest } = options;
    const where = options.sourcemap ? relative(workingDir, outdir) : undefined;
    const files = [__filename, join(__dirname, 'index.js'), ...sources.map((path) => resolve(workingDir, path))];
    const project = PROJECT_FILES.map((name) => join(workingDir, name));
    const hashes = await Promise.all([...files, ...project].map(hashOfFile));
    return sha256(JSON.stringify({ esbuild: esbuild.version, options: rest, entries, workingDir, where, hashes }));
  }

  /**
   * The build's outputs in `outdir`: copied from the cache when it holds them, else built by
   * `build()` (esbuild's result, with its metafile) and kept. Processes that start together (test
   * lanes, a user's two terminals) build once: the others wait for that build's outputs.
   */
  async function restoreOrBuild(outdir, build) {
    let entry;
    try {
      entry = join(root, await keyOf());
    } catch {
      return build(); // a file of the key cannot be read: no cache, as if there were none
    }
    const lock = `${entry}.lock`;
    if (await restore(entry, outdir)) return RESTORED;
    const deadline = Date.now() + WAIT_FOR_OTHER_BUILD_MS;
    let locked = await takeLock(lock);
    const waited = !locked;
    while (!locked && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (await restore(entry, outdir)) return RESTORED;
      locked = await takeLock(lock);
    }
    try {
      // The builder we waited for may have stored and let go between our last look and the lock;
      // else it built with other inputs, or died, or there was none: build here.
      if (waited && locked && (await restore(entry, outdir))) return RESTORED;
      const startedAt = Date.now();
      const result = await build();
      await store(entry, outdir, result.metafile, startedAt);
      return result;
    } finally {
      if (locked) await releaseLock(lock);
    }
  }

  /** The manifest a restore found out of date: a waiting process does not hash every input again for it. */
  let outdatedId;

  /** Copies a matching build's outputs into `outdir`; false when there is none (or it cannot be read). */
  async function restore(entry, outdir) {
    try {
      const manifest = await readManifest(entry);
      if (manifest.id === outdatedId) return false;
      const now = await dependencyHashes(Object.keys(manifest.inputs), Object.keys(manifest.folders));
      const same = (kept, current) => Object.entries(kept).every(([path, hash]) => current[path] === hash);
      if (!same(manifest.inputs, now.inputs) || !same(manifest.folders, now.folders)) {
        outdatedId = manifest.id;
        return false;
      }
      await copyFiles(join(entry, 'files'), outdir, manifest.outputs);
      // Replaced by another process's store while we copied: the files may be of two builds.
      return (await readManifest(entry)).id === manifest.id;
    } catch {
      return false;
    }
  }

  async function readManifest(entry) {
    return JSON.parse(await readFile(join(entry, 'manifest.json'), 'utf8'));
  }

  /** The hashes a manifest keeps: of the input files, and of the folders `foldersOf` names. */
  async function dependencyHashes(inputPaths, folderNames) {
    const [inputs, folders] = await Promise.all([
      hashesOf(inputPaths, (path) => hashOfFile(resolve(workingDir, path))),
      hashesOf(folderNames, hashOfNamedFolder(workingDir)),
    ]);
    return { inputs, folders };
  }

  /** Keeps the outputs the build wrote into `outdir`, as its metafile lists them, unless an input changed meanwhile. */
  async function store(entry, outdir, metafile, startedAt) {
    const staging = `${entry}.${randomUUID()}`;
    try {
      const paths = Object.keys(metafile.inputs);
      const { inputs, folders } = await dependencyHashes(paths, foldersOf(paths));
      // After hashing: a file changed since the build began may hash other than what was built.
      const changed = await Promise.all(
        paths.map((path) =>
          stat(resolve(workingDir, path)).then(
            ({ mtimeMs }) => mtimeMs >= startedAt - MTIME_SLACK_MS,
            () => false,
          ),
        ),
      );
      if (changed.some(Boolean)) return;
      const outputs = Object.keys(metafile.outputs).map((output) => relative(outdir, resolve(workingDir, output)));
      await copyFiles(outdir, join(staging, 'files'), outputs);
      const manifest = { id: randomUUID(), inputs, folders, outputs };
      await writeFile(join(staging, 'manifest.json'), JSON.stringify(manifest));
      // A build of the same key with other inputs may be there: the latest inputs win.
      await rm(entry, { recursive: true, force: true });
      await rename(staging, entry);
      await removeOld();
    } catch {
      // A cache that cannot be written costs the next start a build, nothing more.
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /**
   * The lock of a build in progress: a file holding the builder's pid. Taken over once that
   * process is gone; two processes taking over at once both build, which costs a build, nothing more.
   */
  async function takeLock(lock) {
    try {
      await mkdir(root, { recursive: true });
      await writeFile(lock, String(process.pid), { flag: 'wx' });
      return true;
    } catch (error) {
      if (error.code !== 'EEXIST' || (await isHeld(lock))) return false;
      await rm(lock, { force: true });
      return takeLock(lock);
    }
  }

  async function isHeld(lock) {
    const [holder, written] = await Promise.all([
      readFile(lock, 'utf8').catch(() => ''),
      stat(lock).then(
        ({ mtimeMs }) => mtimeMs,
        () => 0,
      ),
    ]);
    const pid = Number(holder);
    if (holder === '' || !Number.isInteger(pid) || pid <= 0) return Date.now() - written < EMPTY_LOCK_MS;
    return isAlive(pid);
  }

  async function releaseLock(lock) {
    const holder = await readFile(lock, 'utf8').catch(() => '');
    if (holder === String(process.pid)) await rm(lock, { force: true });
  }

  /** Removes the entries past the newest KEPT_ENTRIES, and what dead processes left. */
  async function removeOld() {
    const names = await readdir(root);
    const written = await Promise.all(
      names.map(async (name) => ({ name, at: (await stat(join(root, name))).mtimeMs })),
    );
    const entries = written.filter(({ name }) => /^[0-9a-f]{64}$/.test(name)).sort((a, b) => b.at - a.at);
    const leftovers = written.filter(({ name, at }) => !/^[0-9a-f]{64}$/.test(name) && Date.now() - at > LEFTOVER_MS);
    await Promise.all(
      [...entries.slice(KEPT_ENTRIES), ...leftovers].map(({ name }) =>
        rm(join(root, name), { recursive: true, force: true }),
      ),
    );
  }

  return { restoreOrBuild };
}

module.exports = { outputCache };
