/**
 * Follow mode, as plain data (no React): what of the page's view a presenter shares
 * (lib/protocol-session.ts FollowView) and how a follower turns it back into page state.
 *
 * Mapping (page state -> FollowView):
 * - view controls (time window, stacks, hide idle) -> `window`, `stackMode`, `hideIdle`
 *   (a follower applies them with its own `view:set`, so the server builds its frames alike);
 * - flame graph zoom (ZoomStep path, root excluded) -> `zoom`, frame names only: a follower
 *   finds the frames by name and, when the zoomed frame is not in its tree, shows the deepest
 *   prefix that is (components/flamegraph/zoom.ts), keeping the presenter's full path;
 * - search box text -> `search`; flame/icicle -> `icicle`;
 * - the frame under the presenter's pointer -> `selected` (outlined on followers);
 * - the panel last interacted with (`profile`, a latency id, an events id) -> `focus`.
 */
import type { ViewSettings } from '../../lib/protocol.ts';
import { MAX_FOLLOW_NAME, MAX_FOLLOW_PATH, MAX_SEARCH, type FollowView } from '../../lib/protocol-session.ts';
import type { ZoomStep } from '../flamegraph/zoom.ts';

/** The page's own view, the part a presenter shares. */
export interface PageView {
  view: ViewSettings;
  zoom: readonly ZoomStep[];
  search: string;
  icicle: boolean;
  /** Path of the frame under the pointer, or null. */
  selected: readonly ZoomStep[] | null;
  focus: string | null;
}

/** Frame names of a zoom path, cut to what the server accepts. */
export function namesOf(path: readonly ZoomStep[]): string[] {
  return path.slice(0, MAX_FOLLOW_PATH).map((step) => step.name.slice(0, MAX_FOLLOW_NAME));
}

/** A zoom path from frame names (any kind matches; the graph fills the kinds in). */
export function stepsOf(names: readonly string[]): ZoomStep[] {
  return names.map((name) => ({ name }));
}

export function followViewOf(page: PageView): FollowView {
  return {
    window: page.view.window,
    stackMode: page.view.stackMode,
    hideIdle: page.view.hideIdle,
    ...(page.view.perThread && { perThread: true }),
    zoom: namesOf(page.zoom),
    search: page.search.slice(0, MAX_SEARCH),
    selected: page.selected ? namesOf(page.selected) : null,
    focus: page.focus && page.focus.length <= 64 ? page.focus : null,
    icicle: page.icicle,
  };
}

/** The page view a follower shows for the presenter's `view`. */
export function pageViewOf(view: FollowView): PageView {
  return {
    view: { window: view.window, stackMode: view.stackMode, hideIdle: view.hideIdle, ...(view.perThread && { perThread: true }) },
    zoom: stepsOf(view.zoom),
    search: view.search,
    icicle: view.icicle,
    selected: view.selected ? stepsOf(view.selected) : null,
    focus: view.focus,
  };
}

export function sameViewSettings(a: ViewSettings, b: ViewSettings): boolean {
  return a.window === b.window && a.stackMode === b.stackMode && a.hideIdle === b.hideIdle && !!a.perThread === !!b.perThread;
}

export function sameNames(a: readonly string[] | null, b: readonly string[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

export function sameFollowView(a: FollowView | null, b: FollowView | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    a.window === b.window &&
    a.stackMode === b.stackMode &&
    a.hideIdle === b.hideIdle &&
    !!a.perThread === !!b.perThread &&
    a.icicle === b.icicle &&
    a.search === b.search &&
    a.focus === b.focus &&
    sameNames(a.zoom, b.zoom) &&
    sameNames(a.selected, b.selected)
  );
}
