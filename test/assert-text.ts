/**
 * Assertions on rendered text (SVG, CSV, folded stacks) whose failure shows what was there:
 * the needle, and for SVG its frame titles (what a reader of the failure looks for), else the
 * start of the text.
 */
import assert from 'node:assert/strict';

/** What the text holds, short enough for a failure message. */
function excerpt(text: string): string {
  const titles = text.match(/<title>[^<]*<\/title>/g);
  if (titles) return `titles: ${JSON.stringify(titles.slice(0, 30))}${titles.length > 30 ? ` and ${titles.length - 30} more` : ''}`;
  return `text (${text.length} chars): ${JSON.stringify(text.slice(0, 1500))}`;
}

/** Fails unless `text` contains `needle`; `what` says why it should. */
export function assertIncludes(text: string, needle: string, what = 'expected text'): void {
  assert.ok(text.includes(needle), `${what}: ${JSON.stringify(needle)} not found; ${excerpt(text)}`);
}

/** Fails if `text` contains `needle`, showing where. */
export function assertExcludes(text: string, needle: string, what = 'unexpected text'): void {
  const at = text.indexOf(needle);
  assert.ok(at === -1, `${what}: ${JSON.stringify(needle)} found at ${at}: ${JSON.stringify(text.slice(Math.max(0, at - 120), at + 200))}`);
}
