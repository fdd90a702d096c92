'use client';
/**
 * The flame graph's exports, next to "Export SVG" (which keeps drawing what is on screen,
 * zoom, search and orientation included, client-side):
 * - live view: every format from the server's export route with this page's view (window,
 *   stacks, idle), so the dashboard, the HTTP API and the CLI give the same bytes;
 * - paused view: the same formats made here from the frame on screen (the server's picture
 *   has moved on; the frozen one is what the user means).
 */
import { useState } from 'react';
import { fileTimestamp } from '../../lib/format.ts';
import type { ProfileFrame, ViewSettings } from '../../lib/protocol.ts';
import { profileTitle } from '../../lib/profile-units.ts';
import { RECORDING_TEST_IDS } from '../../lib/test-ids.ts';
import { Menu, MenuItem } from '../ui/Menu.tsx';
import { exportSubtitle } from './export.ts';
import { downloadBlob, downloadUrl, FLAME_FORMAT_LABELS, FLAME_FORMATS, flameExportUrl, flameFile, type FlameFormat } from './files.ts';

export function ExportMenu({
  sessionId,
  view,
  shown,
  paused,
}: {
  sessionId: string;
  /** This page's view on the server (what the route should build). */
  view: ViewSettings;
  /** The frame on screen. */
  shown: ProfileFrame | null;
  /** The drawing is frozen: export the frame on screen instead of the server's newest. */
  paused: boolean;
}) {
  const [error, setError] = useState<string | null>(null);

  async function download(format: FlameFormat, close: () => void) {
    setError(null);
    try {
      if (paused && shown) {
        const file = await flameFile(
          shown.tree,
          format,
          { title: `probeboard: ${profileTitle(shown.settings.type)}`, subtitle: exportSubtitle(shown), hz: shown.settings.hz, type: shown.settings.type, windowStartMs: shown.windowStartMs, windowEndMs: shown.windowEndMs },
          `probeboard-${sessionId}-flame-${fileTimestamp(Date.now())}`,
        );
        downloadBlob(file.blob, file.filename);
      } else {
        downloadUrl(flameExportUrl(sessionId, format, view));
      }
      close();
    } catch (e) {
      setError((e as Error).message);
    }
  }

  return (
    <Menu
      label="Export ▾"
      buttonTestId={RECORDING_TEST_IDS.exportMenu}
      panelClassName="flex w-64 flex-col gap-1 p-2"
      header={
        <p className="px-2 pb-1 text-[11px] text-slate-500">
          {paused ? 'The paused picture, as on screen (made in this page):' : `This view (${view.window === 'all' ? 'since start' : `last ${view.window}`}, ${view.stackMode} stacks) from the server:`}
        </p>
      }
      footer={
        error && (
          <p role="alert" className="px-2 text-xs text-rose-400">
            {error}
          </p>
        )
      }
    >
      {({ close }) =>
        FLAME_FORMATS.map((format) => (
          <MenuItem key={format} data-testid={RECORDING_TEST_IDS.exportFormat} data-format={format} disabled={paused && !shown} onClick={() => void download(format, close)}>
            {FLAME_FORMAT_LABELS[format]}
          </MenuItem>
        ))
      }
    </Menu>
  );
}
