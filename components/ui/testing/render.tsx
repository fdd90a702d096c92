/**
 * The browser side of mount.ts: renders the scene the test asked for into #root and marks
 * #root `data-mounted="true"` once React committed it.
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';

declare global {
  interface Window {
    __componentScene?: { name: string; props: Record<string, unknown> };
  }
}

type Scene = (props: Record<string, unknown>) => ReactNode;

function Mounted({ children, onMounted }: { children: ReactNode; onMounted(): void }) {
  useEffect(onMounted, [onMounted]);
  return children;
}

export function renderScene(scenes: Record<string, unknown>): void {
  const container = document.getElementById('root')!;
  const wanted = window.__componentScene;
  const scene = wanted && scenes[wanted.name];
  const markMounted = () => container.setAttribute('data-mounted', 'true');
  if (typeof scene !== 'function') {
    // Shown, and failed through console.error: the test names a scene this file does not export.
    console.error(`no scene ${JSON.stringify(wanted?.name)}; this file exports ${Object.keys(scenes).join(', ')}`);
    container.textContent = 'unknown scene';
    markMounted();
    return;
  }
  const Scene = scene as Scene;
  createRoot(container).render(
    <Mounted onMounted={markMounted}>
      <Scene {...wanted!.props} />
    </Mounted>,
  );
}

/** A scene's record of callbacks, on the page (`data-testid="event-log"`, one `li` per call) for the test to read. */
export function useEventLog(): [ReactNode, (entry: string) => void] {
  const [entries, setEntries] = useState<string[]>([]);
  const log = (
    <ol data-testid="event-log">
      {entries.map((entry, i) => (
        <li key={i}>{entry}</li>
      ))}
    </ol>
  );
  const add = useCallback((entry: string) => setEntries((previous) => [...previous, entry]), []);
  return [log, add];
}
