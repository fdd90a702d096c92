/**
 * `probeboard export` from the recordings database (run as an unprivileged user: no root, no
 * kernel) and from a running server's export route.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RecordingStore } from '../recording/store.ts';
import { flameOfRecording, PROFILE_INTERVAL } from '../hub/recording.ts';
import { createHub, type Hub } from '../hub/index.ts';
import { profileFeature } from '../hub/profile.ts';
import { ProfilePipeline } from '../pipeline/profile.ts';
import { ReplayChannel } from '../collectors/replay.ts';
import { hostPolicy } from '../http/security.ts';
import { handleExport } from '../http/export-route.ts';
import { treeToFolded } from '../../lib/flame/tree.ts';
import { checkXml } from '../../lib/flame/xml-check.ts';
import type { SymbolizedInterval } from '../symbolizer/types.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const NOBODY = 65534;
const ALL = { window: 'all', stackMode: 'all', hideIdle: false } as const;

function probeboard(args: string[], asNobody = false): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'probeboard.js'), ...args], {
      ...(asNobody && process.getuid?.() === 0 && { uid: NOBODY, gid: NOBODY }),
      env: { ...process.env, HOME: '/nonexistent' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function interval(i: number, startedAtMs: number): SymbolizedInterval {
  return {
    startMs: startedAtMs + i * 1000,
    endMs: startedAtMs + (i + 1) * 1000,
    droppedSamples: 0,
    unknownFrames: 0,
    samples: [
      { pid: 7, comm: 'app', user: [{ name: 'main', kind: 'u' }, { name: i < 3 ? 'early' : 'late', kind: 'u' }], kernel: [], count: 10 + i },
    ],
  } as unknown as SymbolizedInterval;
}

test('export from a recording file, as an unprivileged user: whole, a window, a snapshot, --list, --diff of two windows', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pb-export-rec-'));
  try {
    const store = RecordingStore.open(dataDir);
    const startedAtMs = 1_700_000_000_000;
    const recording = store.startRecording({ sessionId: 'main', name: 'cli run', startedAtMs });
    for (let i = 0; i < 6; i++) store.append(recording.id, { tMs: startedAtMs + (i + 1) * 1000, kind: PROFILE_INTERVAL, payload: interval(i, startedAtMs) });
    store.stopRecording(recording.id, startedAtMs + 6500);
    const whole = treeToFolded(flameOfRecording(store, recording.id, null, ALL).tree);
    const snapshot = store.pinSnapshot({ sessionId: 'main', name: 'pinned', kind: 'flame', takenAtMs: startedAtMs, payload: { tree: flameOfRecording(store, recording.id, { fromMs: 0, toMs: 3000 }, ALL).tree } });
    store.close();
    // The web process's user owns the data directory; this reader is nobody, as a user would be.
    if (process.getuid?.() === 0) {
      chownSync(dataDir, NOBODY, NOBODY);
      for (const file of ['probeboard.db', 'probeboard.db-wal', 'probeboard.db-shm']) {
        try {
          chownSync(path.join(dataDir, file), NOBODY, NOBODY);
        } catch {
          // -wal / -shm exist only while a writer has the file open
        }
      }
    }

    const folded = await probeboard(['export', '--data-dir', dataDir, '--recording', recording.id, '--format', 'folded'], true);
    assert.equal(folded.code, 0, folded.stderr);
    assert.equal(folded.stdout, whole, 'the whole recording, as the server builds it');
    assert.match(whole, /app;main;early 33\napp;main;late 42\n/);

    const early = await probeboard(['export', '--data-dir', dataDir, '--recording', recording.id, '--from', '0', '--to', '3000', '--format', 'folded'], true);
    assert.equal(early.stdout, 'app;main;early 33\n', 'intervals recorded in the first 3 s');

    const pinned = await probeboard(['export', '--data-dir', dataDir, '--snapshot', snapshot.id, '--format', 'folded'], true);
    assert.equal(pinned.stdout, 'app;main;early 33\n');

    const list = await probeboard(['export', '--data-dir', dataDir, '--list'], true);
    assert.match(list.stdout, new RegExp(`${recording.id}\\s+main\\s+"cli run"`));
    assert.match(list.stdout, new RegExp(`${snapshot.id}\\s+main\\s+flame\\s+"pinned"`));

    const diff = await probeboard(['export', '--data-dir', dataDir, '--recording', recording.id, '--diff', '0-3000', '3001-7000', '--format', 'folded'], true);
    assert.equal(diff.code, 0, diff.stderr);
    assert.equal(diff.stdout, 'app;main;early 33 0\napp;main;late 0 42\n', 'before/after columns from the two windows');
    const diffSvg = await probeboard(['export', '--data-dir', dataDir, '--diff', `snapshot:${snapshot.id}`, '3001-7000', '--recording', recording.id], true);
    assert.equal(checkXml(diffSvg.stdout), null, 'the diff SVG is well-formed');

    for (const [args, reason] of [
      [['--recording', 'nope', '--format', 'folded'], /unknown recording "nope"/],
      [['--snapshot', 'nope', '--format', 'folded'], /no snapshot "nope"/],
      [['--recording', recording.id, '--diff', '5-1', '0-10'], /FROM must not be after TO/],
      [['--diff', '0-100', '100-200', '--format', 'folded'], /name its recording with --recording/],
      [['--recording', recording.id, '--from', '90000', '--format', 'folded'], /holds no profile samples/],
    ] as const) {
      const result = await probeboard(['export', '--data-dir', dataDir, ...args], true);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr.trim(), reason);
      assert.equal(result.stderr.trim().split('\n').length, 1, 'one line');
    }
    const missing = await probeboard(['export', '--data-dir', path.join(dataDir, 'absent'), '--list'], true);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no recordings database/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('export --server downloads from a running server with its printed URL; errors name the status', async () => {
  const token = 'cli-export-token-0123456789';
  const pipeline = new ProfilePipeline(
    new ReplayChannel([{ startMs: 0, endMs: 0, hz: 99, cpus: 1, droppedSamples: 0, samples: [{ pid: 5, comm: 'served', userStack: [], kernelStack: [], count: 4 }] }], { intervalMs: 20 }),
  );
  let hub: Hub | null = null;
  const http: Server = createServer((req, res) => handleExport(hub!, req, res, 'test'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  hub = createHub(http, { token, hostPolicy: hostPolicy('127.0.0.1', port), version: 'test', features: [profileFeature(pipeline)] });
  try {
    await pipeline.configure({ running: true });
    const until = Date.now() + 5000;
    while (pipeline.frame({ window: 'all', stackMode: 'all', hideIdle: true }).totalSamples < 8 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await pipeline.configure({ running: false });
    const expected = treeToFolded(pipeline.frame({ window: 'all', stackMode: 'all', hideIdle: true }).tree);

    const printed = `http://127.0.0.1:${port}/?token=${token}`;
    const ok = await probeboard(['export', '--server', printed, '--window', 'all', '--format', 'folded']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, expected);

    const refused = await probeboard(['export', '--server', `http://127.0.0.1:${port}/`, '--format', 'folded'], true);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /answered 401: unauthorized/);
    const badFormat = await probeboard(['export', '--server', printed, '--format', 'png']);
    assert.match(badFormat.stderr, /answered 400: format must be one of/);
    const down = await probeboard(['export', '--server', 'http://127.0.0.1:1/', '--format', 'svg']);
    assert.equal(down.code, 2);
    assert.match(down.stderr, /cannot reach http:\/\/127\.0\.0\.1:1/);
  } finally {
    await hub.close();
    await pipeline.close();
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  }
});
