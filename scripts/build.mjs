#!/usr/bin/env node
// The build: what users (and root) run is built here, as the user who installs probeboard
// (`npm ci` runs it through `prepare`; `npm run build` runs it by hand). Nothing is built at run
// time: bin/probeboard.js refuses a missing or stale dist/, and serve refuses a missing or stale out/.
//
//   node scripts/build.mjs                 server bundle (dist/) + dashboard static export (out/)
//   node scripts/build.mjs --server-only   only dist/ (the dashboard section of build-info is kept)
//
// Output:
//   dist/cli.js         the `probeboard` command (server/cli/main.ts and everything it loads)
//   dist/collector.js   the root collector process (server/privileged/main.ts), forked by serve
//   dist/compare-worker.js  the hub's compare:windows worker thread (server/hub/session-features/compare-worker.ts)
//   dist/build-info.json  the files each part was built from (for the dashboard plus their
//                       directories: an added page counts), for a cheap staleness check at start:
//                       bin/probeboard.js stats `server.inputs` against dist/cli.js, serve stats
//                       `dashboard.inputs` against out/index.html.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
const INFO = path.join(DIST, 'build-info.json');
const serverOnly = process.argv.includes('--server-only');

/**
 * Packages the bundle loads from node_modules at run time instead of containing them:
 * - koffi, better-sqlite3: native addons (.node files found relative to their package);
 * - gecko-profiler-demangle: server/symbolizer/demangle.ts reads its .wasm from the package
 *   directory (it is never imported, listed so that a future import stays external too);
 * - bufferutil, utf-8-validate: optional native speed-ups that `ws` (socket.io) tries to require;
 *   absent here, and they must stay a run-time `require` that may fail, not a build error.
 */
const EXTERNAL = ['koffi', 'better-sqlite3', 'gecko-profiler-demangle', 'bufferutil', 'utf-8-validate'];

/** The dashboard's sources (what `next build` reads), as in the old run-time check. */
const DASHBOARD_SOURCES = ['app', 'components', 'lib', 'public', 'next.config.js', 'postcss.config.mjs', 'package-lock.json'];

/**
 * Code written for the sources finds its files relative to itself (`new URL('../../bpf/obj/x.o',
 * import.meta.url)`). In one bundle every module's import.meta.url would be dist/cli.js, and those
 * paths would point outside the checkout. This plugin gives each bundled module of ours the URL of
 * its own source file, computed at run time from the bundle's location (dist/ sits at the top of
 * the checkout, like server/ and lib/), so paths resolve exactly as they do under tsx.
 */
const sourceUrlPlugin = {
  name: 'source-import-meta-url',
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /\.tsx?$/ }, (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const source = readFileSync(args.path, 'utf8');
      if (!/import\.meta\.(url|dirname|filename)\b/.test(source)) return undefined;
      const fromDist = path.relative(DIST, args.path).split(path.sep).join('/');
      const url = `new URL(${JSON.stringify(fromDist)}, import.meta.url).href`;
      const contents = source
        .replace(/\bimport\.meta\.url\b/g, `(${url})`)
        .replace(/\bimport\.meta\.filename\b/g, `(__pbFileURLToPath(${url}))`)
        .replace(/\bimport\.meta\.dirname\b/g, `(__pbDirname(__pbFileURLToPath(${url})))`);
      const helpers = /__pb(FileURLToPath|Dirname)/.test(contents)
        ? "import { fileURLToPath as __pbFileURLToPath } from 'node:url';\nimport { dirname as __pbDirname } from 'node:path';\n"
        : '';
      return { contents: helpers + contents, loader: args.path.endsWith('.tsx') ? 'tsx' : 'ts' };
    });
  },
};

/** Files and directories under `entry` (relative to ROOT), dot-files skipped as `next build` does. */
function listTree(entry, into) {
  const full = path.join(ROOT, entry);
  let stat;
  try {
    stat = statSync(full);
  } catch {
    return;
  }
  into.add(entry);
  if (!stat.isDirectory()) return;
  for (const name of readdirSync(full)) if (!name.startsWith('.')) listTree(path.join(entry, name), into);
}

/**
 * The sources' paths (relative to ROOT) plus each one's directory, sorted: Next finds pages and
 * assets by listing directories, so an added or removed file changes the dashboard too.
 */
function withDirectories(files) {
  const all = new Set();
  for (const file of files) {
    all.add(file);
    for (let dir = path.dirname(file); dir !== '.' && dir !== '/'; dir = path.dirname(dir)) all.add(dir);
  }
  return [...all].sort();
}

const newestMtimeMs = (entries) => Math.max(0, ...entries.map((entry) => statSync(path.join(ROOT, entry)).mtimeMs));

function readPreviousInfo() {
  try {
    return JSON.parse(readFileSync(INFO, 'utf8'));
  } catch {
    return null;
  }
}

/** Writes a file whole or not at all (a reader never sees half of it). */
function writeAtomically(file, text) {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o644 });
  renameSync(temporary, file);
}

async function buildServer() {
  mkdirSync(DIST, { recursive: true, mode: 0o755 });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { cli: 'server/cli/main.ts', collector: 'server/privileged/main.ts', 'compare-worker': 'server/hub/session-features/compare-worker.ts' },
    outdir: DIST,
    bundle: true,
    // One chunk per lazily loaded command (server/cli/main.ts imports each on use): `probeboard
    // --help` or `profile` then never parses socket.io or loads better-sqlite3.
    splitting: true,
    chunkNames: '[name]-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    // Bundled CommonJS packages (socket.io, ws, …) call require() for Node's modules: give the
    // ESM bundle a real require.
    banner: { js: "import { createRequire as __pbCreateRequire } from 'node:module';\nconst require = __pbCreateRequire(import.meta.url);" },
    external: EXTERNAL,
    // Code tells whether it runs from the bundle (server/bundled.ts): e.g. the collector is then
    // forked from dist/collector.js without any TypeScript loader.
    define: { PROBEBOARD_BUNDLED: 'true' },
    plugins: [sourceUrlPlugin],
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  });
  // Chunks of earlier builds (names carry a content hash) would pile up: remove what this build
  // did not write. bin/probeboard.js checks the owner and mode of every file in dist/.
  const written = new Set(Object.keys(result.metafile.outputs).map((output) => path.resolve(ROOT, output)));
  for (const name of readdirSync(DIST)) {
    const file = path.join(DIST, name);
    if (name !== 'build-info.json' && !written.has(file)) unlinkSync(file);
    // Writable by their owner only, whatever the umask (Debian's user-private-group umask is 002):
    // bin/probeboard.js refuses to run files others may write.
    else chmodSync(file, 0o644);
  }
  chmodSync(DIST, 0o755);
  // Files only: the bundle changes only when a file it was built from changes or vanishes (a new
  // file matters once an existing one imports it, which changes that one). node_modules is
  // covered by package-lock.json.
  const inputs = Object.keys(result.metafile.inputs)
    .filter((input) => !input.includes('node_modules/') && !input.startsWith('<'))
    .concat(['package-lock.json', 'scripts/build.mjs'])
    .sort();
  return { newestSourceMs: newestMtimeMs(inputs), inputs };
}

function buildDashboard() {
  const nextBin = path.join(ROOT, 'node_modules', 'next', 'dist', 'bin', 'next');
  const result = spawnSync(process.execPath, [nextBin, 'build'], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  if (result.status !== 0) throw new Error(`next build failed (exit ${result.status ?? result.signal}): its messages are above`);
  if (!existsSync(path.join(ROOT, 'out', 'index.html'))) throw new Error('next build wrote no out/index.html (is output: "export" still set in next.config.js?)');
  const sources = new Set();
  for (const entry of DASHBOARD_SOURCES) listTree(entry, sources);
  const all = withDirectories([...sources]);
  return { newestSourceMs: newestMtimeMs(all), inputs: all };
}

try {
  const started = Date.now();
  const server = await buildServer();
  const previous = readPreviousInfo();
  const info = { format: 1, server, dashboard: previous?.dashboard ?? null };
  // Written before the dashboard build too: the server bundle is usable on its own.
  writeAtomically(INFO, JSON.stringify(info, null, 1) + '\n');
  process.stderr.write(`probeboard build: dist/cli.js, dist/collector.js and dist/compare-worker.js from ${server.inputs.length} sources in ${Date.now() - started} ms (newest source ${new Date(server.newestSourceMs).toISOString()})\n`);
  if (!serverOnly) {
    info.dashboard = buildDashboard();
    writeAtomically(INFO, JSON.stringify(info, null, 1) + '\n');
    process.stderr.write(`probeboard build: out/ (dashboard) from ${info.dashboard.inputs.length} sources\n`);
  }
} catch (error) {
  process.stderr.write(`probeboard build: ${error.message}\n`);
  process.exit(1);
}
