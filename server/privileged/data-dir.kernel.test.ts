/**
 * The data directory as root creates it (finding 6 of issue 8): a symlinked parent, a symlink
 * as the final component, a parent owned by another user, a group/world-writable parent are
 * refused with nothing created or chowned anywhere; the normal case creates the chain owned by
 * the web process's user, 0700. The attacker is the ordinary account pb-audit; the web
 * process's user is `nobody` (what serve drops to without sudo).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kernelTestGate } from '../testing/kernel.ts';
import { attacker } from '../testing/unprivileged.ts';
import { NOBODY } from './drop.ts';
import { createDataDir, DataDirError } from './data-dir.ts';
import { prepareDataDir } from '../cli/serve.ts';

const WEB = { uid: NOBODY, gid: NOBODY };

/** A root-owned 0755 scratch directory (under /tmp, itself root-owned and sticky). */
function scratch(): string {
  const base = mkdtempSync('/tmp/pb-datadir-');
  chmodSync(base, 0o755);
  return base;
}

/** A root-only directory with a root-only file: what the attacker tries to get root to create in or chown. */
function victim(base: string): { dir: string; file: string } {
  const dir = join(base, 'victim');
  mkdirSync(dir, { mode: 0o700 });
  const file = join(dir, 'secret');
  writeFileSync(file, 'root only\n', { mode: 0o600 });
  return { dir, file };
}

function assertVictimUntouched(v: { dir: string; file: string }): void {
  assert.deepEqual(readdirSync(v.dir), ['secret'], 'nothing created in the victim directory');
  for (const p of [v.dir, v.file]) {
    const st = statSync(p);
    assert.equal(st.uid, 0, `${p} still owned by root`);
    assert.equal(st.gid, 0, `${p} still group root`);
  }
}

test('normal case: the missing chain is created owned by the web user, 0700; an existing final directory of theirs is used as is', (t) => {
  if (!kernelTestGate(t)) return;
  const base = scratch();
  try {
    const dir = join(base, 'home', '.local', 'share', 'probeboard');
    const created = createDataDir(dir, WEB);
    assert.deepEqual(created, [join(base, 'home'), join(base, 'home', '.local'), join(base, 'home', '.local', 'share'), dir]);
    for (const p of created) {
      const st = lstatSync(p);
      assert.ok(st.isDirectory(), `${p} is a directory`);
      assert.equal(st.uid, NOBODY, `${p} owned by the web user`);
      assert.equal(st.gid, NOBODY, `${p} group of the web user`);
      assert.equal(st.mode & 0o7777, 0o700, `${p} mode 0700`);
    }
    assert.equal(statSync(base).uid, 0, 'the existing parent was not chowned');
    // Again: all exists, nothing created, nothing changed.
    chmodSync(dir, 0o750);
    assert.deepEqual(createDataDir(dir, WEB), []);
    assert.equal(statSync(dir).mode & 0o7777, 0o750, 'an existing directory of the web user is used as is');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a symlinked parent (~/.local -> elsewhere) is refused; nothing is created or chowned through it', (t) => {
  if (!kernelTestGate(t)) return;
  const base = scratch();
  try {
    const v = victim(base);
    const home = join(base, 'home');
    mkdirSync(home, { mode: 0o755 });
    chownSync(home, WEB.uid, WEB.gid);
    symlinkSync(v.dir, join(home, '.local'));
    assert.throws(
      () => createDataDir(join(home, '.local', 'share', 'probeboard'), WEB),
      (e: unknown) => e instanceof DataDirError && e.component === join(home, '.local') && /symbolic link/.test(e.message),
    );
    assertVictimUntouched(v);
    // Through serve's entry point too (as root with no sudo user, the web user is nobody).
    const sudoUid = process.env.SUDO_UID;
    delete process.env.SUDO_UID;
    try {
      assert.throws(() => prepareDataDir(join(home, '.local', 'share', 'probeboard')), /\.local: a symbolic link/);
    } finally {
      if (sudoUid !== undefined) process.env.SUDO_UID = sudoUid;
    }
    assertVictimUntouched(v);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a symlink as the final component is refused; its target is not chowned', (t) => {
  if (!kernelTestGate(t)) return;
  const base = scratch();
  try {
    const v = victim(base);
    symlinkSync(v.dir, join(base, 'probeboard'));
    assert.throws(() => createDataDir(join(base, 'probeboard'), WEB), /probeboard: a symbolic link/);
    assertVictimUntouched(v);
    symlinkSync(v.file, join(base, 'to-file'));
    assert.throws(() => createDataDir(join(base, 'to-file'), WEB), /to-file: a symbolic link/);
    assertVictimUntouched(v);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a parent owned by another local user is refused; nothing is created in it', (t) => {
  if (!kernelTestGate(t)) return;
  const user = attacker();
  const base = scratch();
  try {
    const theirs = join(base, 'theirs');
    mkdirSync(theirs, { mode: 0o755 });
    chownSync(theirs, user.uid, user.gid);
    assert.throws(() => createDataDir(join(theirs, 'data', 'probeboard'), WEB), new RegExp(`theirs: owned by uid ${user.uid}, neither root nor uid ${NOBODY}`));
    assert.deepEqual(readdirSync(theirs), [], 'nothing created under the other user\'s directory');
    // Their entry inside a sticky root directory (/tmp-like) is refused as well.
    const sticky = join(base, 'sticky');
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    const planted = join(sticky, 'probeboard');
    mkdirSync(planted, { mode: 0o700 });
    chownSync(planted, user.uid, user.gid);
    assert.throws(() => createDataDir(planted, WEB), new RegExp(`sticky/probeboard: owned by uid ${user.uid}`));
    assert.equal(statSync(planted).uid, user.uid, 'not chowned');
    // ... while a new directory in it is fine (others cannot rename or remove it there).
    createDataDir(join(sticky, 'mine'), WEB);
    assert.equal(statSync(join(sticky, 'mine')).uid, NOBODY);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a group- or world-writable parent (not a sticky root directory) is refused', (t) => {
  if (!kernelTestGate(t)) return;
  const base = scratch();
  try {
    for (const [name, mode, who] of [
      ['world', 0o777, /writable by everyone \(mode 777\)/],
      ['group', 0o775, /writable by group 0 \(mode 775\)/],
    ] as const) {
      const parent = join(base, name);
      mkdirSync(parent);
      chmodSync(parent, mode);
      assert.throws(() => createDataDir(join(parent, 'probeboard'), WEB), who);
      assert.deepEqual(readdirSync(parent), [], `nothing created in the ${name}-writable directory`);
    }
    // A final directory others can write to is refused too (they could replace the database).
    const open = join(base, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    chownSync(open, WEB.uid, WEB.gid);
    assert.throws(() => createDataDir(open, WEB), /open: writable by everyone/);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('race: the web user flipping the new directory to a symlink while root creates it never gets a root file chowned', async (t) => {
  if (!kernelTestGate(t)) return;
  const user = attacker();
  const base = scratch();
  const home = join(base, 'home');
  const v = victim(base);
  mkdirSync(home, { mode: 0o755 });
  chownSync(home, user.uid, user.gid);
  // The web user is the attacker here (they own the parent, as with a sudo user's home):
  // they swap home/x between a directory and a symlink to the root-only file as fast as they can.
  const flipper = spawn('sh', ['-c', `while :; do rm -rf ${home}/x; ln -s ${v.file} ${home}/x; rm -f ${home}/x; mkdir ${home}/x 2>/dev/null; done`], {
    uid: user.uid,
    gid: user.gid,
    stdio: 'ignore',
  });
  const owner = { uid: user.uid, gid: user.gid };
  const outcomes = { created: 0, refused: 0, other: 0 };
  try {
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      try {
        createDataDir(join(home, 'x'), owner);
        outcomes.created++;
      } catch (e) {
        if (e instanceof DataDirError) outcomes.refused++;
        else outcomes.other++; // ENOENT when removed between mkdirat and openat
      }
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    flipper.kill('SIGKILL');
    await new Promise((r) => flipper.once('exit', r));
  }
  try {
    assert.ok(outcomes.created + outcomes.refused + outcomes.other > 100, `attempts: ${JSON.stringify(outcomes)}`);
    const st = statSync(v.file);
    assert.equal(st.uid, 0, `the root-only file is still root's after ${JSON.stringify(outcomes)}`);
    assert.equal(st.mode & 0o777, 0o600, 'and still 0600');
    assert.ok(existsSync(v.file), 'and still there');
    assertVictimUntouched(v);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
