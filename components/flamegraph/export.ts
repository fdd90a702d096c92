/**
 * "Export SVG": what is on screen (zoomed subtree, search, orientation) as a standalone file,
 * drawn by lib/flame/svg.ts — the renderer behind the CLI's `--format svg`.
 */
import { renderFlameSvg } from '../../lib/flame/svg.ts';
import { fileTimestamp, formatClock } from '../../lib/format.ts';
import type { ProfileFrame, ProfileTarget } from '../../lib/protocol.ts';
import { PROFILE_TYPE_LABELS, profileTitle } from '../../lib/profile-units.ts';
import type { ZoomPath } from './zoom.ts';

export interface ExportView {
  icicle: boolean;
  search: string;
  zoomPath: ZoomPath;
}

const WINDOW_TEXT = { '10s': 'last 10 s', '60s': 'last 60 s', all: 'since start' } as const;
const MODE_TEXT = { all: 'user + kernel stacks', user: 'user stacks', kernel: 'kernel stacks' } as const;

function targetText(target: ProfileTarget): string {
  if (target.kind === 'pid') return `pid ${target.pid}`;
  if (target.kind === 'comm') return `command ${target.comm}`;
  return 'all processes';
}

/** The subtitle printed under the title: what, how and when. */
export function exportSubtitle(frame: ProfileFrame): string {
  const type = frame.settings.type ?? 'cpu';
  return [
    targetText(frame.settings.target),
    // Off-CPU widths are µs of blocked time: no sampling rate is involved.
    type === 'cpu' ? `${frame.settings.hz} Hz` : type === 'wall' ? `${PROFILE_TYPE_LABELS.wall}, µs (on-CPU at ${frame.settings.hz} Hz)` : `${PROFILE_TYPE_LABELS.offcpu}, µs`,
    MODE_TEXT[frame.view.stackMode],
    frame.view.hideIdle ? 'idle hidden' : 'idle shown',
    `${WINDOW_TEXT[frame.view.window]} (${formatClock(frame.windowStartMs)}–${formatClock(frame.windowEndMs)})`,
    new Date(frame.sampledAtMs).toISOString().slice(0, 10),
  ].join(' · ');
}

/** The SVG text for `frame` as viewed. */
export function frameToSvg(frame: ProfileFrame, view: ExportView): string {
  return renderFlameSvg(frame.tree, {
    title: `probeboard: ${profileTitle(frame.settings.type)}`,
    subtitle: exportSubtitle(frame),
    icicle: view.icicle,
    search: view.search || undefined,
    zoomPath: view.zoomPath.map((step) => step.name),
  });
}

/** Starts a browser download of `probeboard-<timestamp>.svg`. */
export function downloadSvg(frame: ProfileFrame, view: ExportView, now = Date.now()): string {
  const name = `probeboard-${fileTimestamp(now)}.svg`;
  const url = URL.createObjectURL(new Blob([frameToSvg(frame, view)], { type: 'image/svg+xml' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}
