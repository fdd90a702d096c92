/**
 * Frame search for the live view: which frames to highlight. Matching is lib/flame/search.ts's
 * (case-insensitive substring, or /regex/), the same that computes the share shown next to the
 * box (`searchShare`) and that the SVG export highlights, so the three always agree.
 */
import { compileQuery } from '../../lib/flame/search.ts';
import { SEARCH_HIGHLIGHT } from '../../lib/flame/colors.ts';

export const HIGHLIGHT_COLOR = SEARCH_HIGHLIGHT;

/** A predicate on frame names for `query`, or null when the query is empty. */
export function frameMatcher(query: string): ((name: string) => boolean) | null {
  return query === '' ? null : compileQuery(query);
}
