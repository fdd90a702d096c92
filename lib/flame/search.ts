/**
 * Frame search: which frames match a query, and what share of the samples they cover.
 *
 * A query is a case-insensitive substring, or a regular expression when wrapped in slashes
 * (`/^do_sys/`, flags after the last slash allowed, `i` always added). A regex that does not
 * compile is searched as plain text. An empty query matches nothing.
 */
import type { FlameNode } from '../protocol.ts';

export interface SearchShare {
  /** Samples under matching frames, nested matches counted once. */
  matchedSamples: number;
  /** Samples in the tree (root value). */
  totalSamples: number;
  /** matchedSamples / totalSamples * 100 (0 for an empty tree). */
  percent: number;
}

export type Matcher = (name: string) => boolean;

const cache = new Map<string, Matcher>();

/** Compiles a query into a predicate on frame names (memoised). */
export function compileQuery(query: string): Matcher {
  let matcher = cache.get(query);
  if (matcher) return matcher;
  matcher = compile(query);
  if (cache.size > 256) cache.clear();
  cache.set(query, matcher);
  return matcher;
}

function compile(query: string): Matcher {
  if (query === '') return () => false;
  const regex = /^\/(.+)\/([a-z]*)$/s.exec(query);
  if (regex) {
    try {
      const flags = regex[2].replace(/[gyi]/g, '') + 'i';
      const re = new RegExp(regex[1], flags);
      return (name) => re.test(name);
    } catch {
      // fall through: not a valid regex, search the text as typed
    }
  }
  const needle = query.toLowerCase();
  return (name) => name.toLowerCase().includes(needle);
}

/** Whether a frame name matches the query (see the module comment). */
export function matches(name: string, query: string): boolean {
  return compileQuery(query)(name);
}

/**
 * Samples in frames matching the query. A matching frame counts with all its samples and its
 * descendants are not looked at again, so nested matches are counted once. The root itself is
 * not a frame and never matches.
 */
export function searchShare(tree: FlameNode, query: string): SearchShare {
  const match = compileQuery(query);
  let matchedSamples = 0;
  const stack: FlameNode[] = [...(tree.c ?? [])];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (match(node.n)) matchedSamples += node.v;
    else if (node.c) for (const child of node.c) stack.push(child);
  }
  const totalSamples = tree.v;
  return { matchedSamples, totalSamples, percent: totalSamples > 0 ? (matchedSamples / totalSamples) * 100 : 0 };
}
