#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072 node --max-semi-space-size=1
// Entry point of the `probeboard` command: runs the built bundle dist/cli.js (scripts/build.mjs,
// run by `npm ci` or `npm run build` as the user who installs probeboard). Nothing is compiled or
// built here: root runs only JavaScript that root or the invoking user wrote.
//
// The V8 flag above (and in `npm start`) is on the command line on purpose: a small young
// generation keeps the server's resident memory ~100 MB lower at about the same CPU (bench/overhead);
// 1 MB rather than 4 MB saves ~5-10 MB more per process at the same CPU (bench/steady, issue 9).
// The two glibc malloc settings before it (read by glibc at start, so they must be in the
// environment of the exec) fix the mmap threshold at 128 KiB: freed large buffers go back to the
// system instead of staying in the brk heap (server/privileged/child.ts gives the collector the same).

// First statement, before anything else can run: a JavaScript SIGUSR1 listener replaces Node's
// own handler, which would otherwise open the inspector on 127.0.0.1:9229 for any local user
// (Node 20 has no --disable-sigusr1). After serve drops root, processes of the web process's
// uid can signal it; with this listener, SIGUSR1 does nothing.
process.on('SIGUSR1', () => undefined);

const { lstatSync, readdirSync, readFileSync, statSync } = await import('node:fs');
const { fileURLToPath } = await import('node:url');

const checkout = fileURLToPath(new URL('../', import.meta.url));
const distDir = fileURLToPath(new URL('../dist', import.meta.url));

/** The user who asked for this run: the sudo user when run by sudo, else whoever runs it. */
function invokingUid() {
  const uid = process.getuid();
  const sudoUid = Number(process.env.SUDO_UID);
  return uid === 0 && Number.isInteger(sudoUid) && sudoUid >= 0 ? sudoUid : uid;
}

/** `npm run build` and whom to run it as, for the one line a refusal prints. */
function buildHint() {
  const who = process.getuid() === 0 && process.env.SUDO_USER ? `as ${process.env.SUDO_USER}` : 'as your user';
  return `run \`npm run build\` ${who} (not root) in ${checkout.replace(/\/$/, '')}`;
}

function refuse(line) {
  process.stderr.write(`probeboard: ${line}\n`);
  process.exit(2);
}

/**
 * Root must not run code another user could have written: dist/ and every file in it (cli.js,
 * collector.js, their chunks, build-info.json) must belong to root or to the invoking user and be
 * writable by their owner only. Files must be real files, not links to somewhere else.
 */
function checkOwnership() {
  const trusted = new Set([0, invokingUid()]);
  let names;
  try {
    names = readdirSync(distDir);
  } catch {
    return refuse(`no build (${distDir} is missing): ${buildHint()}`);
  }
  for (const required of ['cli.js', 'collector.js', 'build-info.json']) {
    if (!names.includes(required)) return refuse(`no complete build (${distDir}/${required} is missing): ${buildHint()}`);
  }
  for (const entry of [distDir, ...names.map((name) => `${distDir}/${name}`)]) {
    let stat;
    try {
      stat = entry === distDir ? statSync(entry) : lstatSync(entry);
    } catch (error) {
      return refuse(`cannot check ${entry} (${error.code ?? error.message}): ${buildHint()}`);
    }
    if (stat.isSymbolicLink()) return refuse(`refusing to run ${entry}: it is a symbolic link; rebuild: ${buildHint()}`);
    if (!trusted.has(stat.uid)) {
      return refuse(`refusing to run ${entry}: it belongs to uid ${stat.uid}, neither root nor the invoking user (uid ${invokingUid()}); rebuild it: ${buildHint()}`);
    }
    if ((stat.mode & 0o022) !== 0) {
      return refuse(`refusing to run ${entry}: other users may write it (mode ${(stat.mode & 0o777).toString(8)}); chmod go-w it or rebuild: ${buildHint()}`);
    }
  }
}

/** The bundle must be at least as new as every source it was built from (about a hundred stats: a few ms). */
function checkFresh() {
  let info;
  try {
    info = JSON.parse(readFileSync(`${distDir}/build-info.json`, 'utf8'));
  } catch (error) {
    return refuse(`the build in ${distDir} is incomplete (build-info.json: ${error.message}): ${buildHint()}`);
  }
  const builtMs = statSync(`${distDir}/cli.js`).mtimeMs;
  for (const input of info?.server?.inputs ?? []) {
    let mtimeMs;
    try {
      mtimeMs = statSync(checkout + input).mtimeMs;
    } catch {
      return refuse(`the build in ${distDir} is stale (${input} is gone since): ${buildHint()}`);
    }
    if (mtimeMs > builtMs) return refuse(`the build in ${distDir} is stale (${input} changed since): ${buildHint()}`);
  }
}

checkOwnership();
checkFresh();
await import(new URL('../dist/cli.js', import.meta.url).href);
