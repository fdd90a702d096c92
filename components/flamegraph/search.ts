/**
 * Frame search for the live view: which frames to highlight. Matching is lib/flame/search.ts's
 * (case-insensitive substring, or /regex/), the same that computes the share shown next to the
 * box (`searchShare`) and that the SVG export highlights, so the three always agree.
 */
import { compileQuery } from '../../lib/flame/search.ts';
import { frameColor, SEARCH_HIGHLIGHT } from '../../lib/flame/colors.ts';
import type { FlameNode } from '../../lib/protocol.ts';

export const HIGHLIGHT_COLOR = SEARCH_HIGHLIGHT;

/** A predicate on frame names for `query`, or null when the query is empty. */
export function frameMatcher(query: string): ((name: string) => boolean) | null {
  return query === '' ? null : compileQuery(query);
}

/**
 * A frame's fill, the same for d3-flame-graph's SVG frames (chart.ts's colour mapper) and the
 * canvas layer's thin frames: the search highlight for a matching frame other than the root
 * (the root, "all", is never highlighted), else the frame's own colour (lib/flame/colors.ts).
 */
export function frameFill(node: Pick<FlameNode, 'n' | 'k'>, isRoot: boolean, match: ((name: string) => boolean) | null): string {
  if (match !== null && !isRoot && match(node.n)) return HIGHLIGHT_COLOR;
  return cachedFrameColor(node.n, node.k);
}

/**
 * frameColor, remembered: the same frames come back in every live update, and hashing the name and
 * formatting the colour for each of ~3,000 frames took about 4 ms per update. Cleared when it
 * holds COLOR_CACHE_LIMIT names (a long session sees new names without end).
 */
const COLOR_CACHE_LIMIT = 50_000;
const colorCache = new Map<string, string>();

function cachedFrameColor(name: string, kind: FlameNode['k']): string {
  const key = kind === undefined ? name : `${kind}\u0000${name}`;
  let color = colorCache.get(key);
  if (color === undefined) {
    if (colorCache.size >= COLOR_CACHE_LIMIT) colorCache.clear();
    color = frameColor(name, kind);
    colorCache.set(key, color);
  }
  return color;
}
