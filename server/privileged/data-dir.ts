/**
 * Creating the data directory as root for the user the web process becomes, without letting
 * any other local user (or a symlink the target user planted) steer where root creates or
 * chowns. Path-based mkdir -p + chown follows symlinks and races: a symlinked ~/.local made
 * root create directories elsewhere, and swapping a component between mkdir and chown handed
 * a root-only file to the user (issue 8, finding 6).
 *
 * How: the path is walked from `/` one component at a time, each opened with
 * openat(O_DIRECTORY|O_NOFOLLOW) relative to the descriptor of its parent, so what was checked
 * is what is used. Missing components are created with mkdirat (0700) and then fchown'ed and
 * fchmod'ed through their own descriptor. Every component must be:
 * - a directory, not a symlink (symlinks are never followed, not even legitimate-looking ones:
 *   pass the real path instead);
 * - owned by root or by the target user (anyone else could rename or replace what is under it);
 * - not writable by group or others, except a root-owned sticky directory such as /tmp, whose
 *   entries others cannot rename or remove (the entry inside it is then checked the same way).
 * The final directory must be owned by the target user (created here, or already theirs) and
 * not writable by group or others. Only directories created here are chowned.
 */
import { closeSync, fchmodSync, fchownSync, fstatSync, openSync, type Stats } from 'node:fs';
import path from 'node:path';
import { AtError, lstatAt, mkdirAt, openAt, O_DIRECTORY, O_NOFOLLOW, O_RDONLY } from '../fs/at.ts';

/** Who the data directory is for: the uid/gid the web process runs as. */
export interface DataDirOwner {
  uid: number;
  gid: number;
}

/** A component of the data directory's path that is unsafe or unusable; the message names it and why. */
export class DataDirError extends Error {
  constructor(
    readonly component: string,
    reason: string,
  ) {
    super(`${component}: ${reason}`);
    this.name = 'DataDirError';
  }
}

const S_ISVTX = 0o1000;
/** Mode of every directory created here. */
export const DATA_DIR_MODE = 0o700;

/** Refuses a component another user could tamper with (see the file comment). */
function checkComponent(shown: string, st: Stats, owner: DataDirOwner, isFinal: boolean): void {
  if (!st.isDirectory()) throw new DataDirError(shown, 'not a directory');
  if (st.uid !== 0 && st.uid !== owner.uid) {
    throw new DataDirError(shown, `owned by uid ${st.uid}, neither root nor uid ${owner.uid} (the web process's user): that user could rename or replace what is under it`);
  }
  const writableByOthers = (st.mode & 0o022) !== 0;
  if (!writableByOthers) return;
  const stickyRootDir = st.uid === 0 && (st.mode & S_ISVTX) !== 0;
  if (isFinal || !stickyRootDir) {
    const who = (st.mode & 0o002) !== 0 ? 'everyone' : `group ${st.gid}`;
    throw new DataDirError(shown, `writable by ${who} (mode ${(st.mode & 0o7777).toString(8)}): another user could rename or replace what is under it`);
  }
}

/**
 * Creates (or checks) `dir` for `owner` as described in the file comment. Returns the
 * directories created, outermost first. Throws DataDirError for an unsafe component, or an
 * AtError/Node error (EACCES, ENOSPC, ...) for other failures.
 */
export function createDataDir(dir: string, owner: DataDirOwner): string[] {
  if (!path.isAbsolute(dir)) throw new DataDirError(dir, 'not an absolute path');
  const parts = path.resolve(dir).split('/').filter((p) => p !== '');
  if (parts.length === 0) throw new DataDirError(dir, 'the root directory cannot be a data directory');
  const created: string[] = [];
  let fd = openSync('/', O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  try {
    checkComponent('/', fstatSync(fd), owner, false);
    let shown = '';
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i];
      shown += `/${name}`;
      const isFinal = i === parts.length - 1;
      let made = false;
      let next: number;
      try {
        next = openComponent(fd, name, shown);
      } catch (error) {
        if (!(error instanceof AtError) || error.code !== 'ENOENT') throw error;
        try {
          mkdirAt(fd, name, DATA_DIR_MODE);
          made = true;
        } catch (mkdirError) {
          // Someone created it in between: check whatever is there now like any existing component.
          if (!(mkdirError instanceof AtError) || mkdirError.code !== 'EEXIST') throw mkdirError;
        }
        next = openComponent(fd, name, shown);
      }
      closeSync(fd);
      fd = next;
      if (made) {
        // Through the descriptor: the directory we just made, whatever happens to its name now.
        fchownSync(fd, owner.uid, owner.gid);
        fchmodSync(fd, DATA_DIR_MODE);
        created.push(shown);
      }
      const st = fstatSync(fd);
      checkComponent(shown, st, owner, isFinal);
      if (isFinal && st.uid !== owner.uid) {
        throw new DataDirError(shown, `owned by uid ${st.uid}, not by uid ${owner.uid} that the web process runs as: it could not write there`);
      }
    }
    return created;
  } finally {
    closeSync(fd);
  }
}

/** openat(parent, name, O_DIRECTORY|O_NOFOLLOW), with a symlink or non-directory named as such. */
function openComponent(parent: number, name: string, shown: string): number {
  try {
    return openAt(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (error) {
    if (error instanceof AtError && (error.code === 'ELOOP' || error.code === 'ENOTDIR')) {
      const isLink = error.code === 'ELOOP' || lstatAt(parent, name)?.isSymbolicLink() === true;
      throw new DataDirError(shown, isLink ? 'a symbolic link: not followed (give the real path)' : 'not a directory');
    }
    throw error;
  }
}
