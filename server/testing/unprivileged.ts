/**
 * An ordinary local account for security tests: the attacker of the audit (issue "Root stays
 * root's") is a user with no privileges who shares the machine. Tests that reproduce an attack
 * create that user once (`useradd`, no home, no login shell) and run the attacker's steps as it.
 *
 * Needs root (tests that use it are gated like kernel tests). The account is left in place
 * between runs: creating it again would only cost time, and it owns nothing outside the test's
 * own temporary files.
 */
import { execFileSync, spawnSync, type SpawnSyncOptions, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const ATTACKER_NAME = 'pb-audit';

export interface LocalUser {
  name: string;
  uid: number;
  gid: number;
}

function lookup(name: string): LocalUser | null {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name) return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  return null;
}

/** The unprivileged test account, created on first use (root only). */
export function attacker(): LocalUser {
  const existing = lookup(ATTACKER_NAME);
  if (existing) return existing;
  if (process.geteuid?.() !== 0) throw new Error(`creating the test account ${ATTACKER_NAME} needs root`);
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', ATTACKER_NAME], { stdio: 'pipe' });
  const created = lookup(ATTACKER_NAME);
  if (!created) throw new Error(`useradd did not create ${ATTACKER_NAME}`);
  return created;
}

/** Runs a command as `user` (uid, gid, no supplementary groups), synchronously. */
export function runAs(user: LocalUser, command: string, args: string[], options: SpawnSyncOptions = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, { encoding: 'utf8', timeout: 30_000, ...options, uid: user.uid, gid: user.gid }) as SpawnSyncReturns<string>;
}
