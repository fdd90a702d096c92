/**
 * `probeboard export`: turn folded stacks (ours, perf's stackcollapse, bpftrace's) into another
 * format, or compare two profiles as a differential flame graph.
 *
 * Shape: one function per source (where the stacks come from: `readFoldedSource`,
 * `readDiffSource`) and one per output (`renderFlame`, `renderDiff`), so new sources (a running
 * server, a recording file) plug in as another reader that yields a FlameNode tree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { choiceOption, intOption, parseCommandLine, stringOption, UsageError } from './args.ts';
import { parseFolded } from '../aggregator/folded.ts';
import type { FlameNode } from '../../lib/protocol.ts';
import { renderFlameSvg } from '../../lib/flame/svg.ts';
import { toD3Json } from '../../lib/flame/d3json.ts';
import { speedscopeFromFolded } from '../../lib/flame/speedscope.ts';
import { flameTreeToPprof } from '../../lib/flame/pprof.ts';
import { diffToFolded, diffTrees, renderDiffSvg } from '../../lib/flame/diff.ts';
import { treeToFolded } from '../../lib/flame/tree.ts';

export const EXPORT_FORMATS = ['svg', 'json', 'speedscope', 'folded', 'pprof'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const DIFF_FORMATS = ['svg', 'folded'] as const;
export type DiffFormat = (typeof DIFF_FORMATS)[number];

export const EXPORT_HELP = `usage: probeboard export [--input FILE] --format svg|json|speedscope|folded|pprof
                        [--output FILE] [--title TEXT] [--icicle] [--static] [--hz HZ]
       probeboard export --diff BEFORE AFTER [--normalize] [--format svg|folded]
                        [--output FILE] [--title TEXT] [--icicle] [--static]

Reads folded stacks ("frame;frame;frame COUNT" per line, root first; kernel frames may end
in _[k]) from FILE or stdin — e.g. saved by \`probeboard profile\` — and writes them as:
  svg          the standalone flame graph the dashboard exports; interactive in a browser
               (hover, click to zoom, Search); --static leaves the script out
  json         the d3-flame-graph tree {name, value, children}
  speedscope   a file speedscope opens
  folded       normalized folded stacks (merged, sorted)
  pprof        a gzipped pprof profile (go tool pprof, Pyroscope); binary: to --output or
               a pipe, never a terminal. --hz HZ (the sampling rate) adds cpu nanoseconds
               per sample. Kernel frames keep their _[k] suffix (file "[kernel]").

--diff BEFORE AFTER compares two folded files as a differential flame graph: widths from
AFTER, red = grew, blue = shrank (inclusive samples of the frame and its callees), frames
found only in BEFORE counted in the subtitle. --normalize scales BEFORE to AFTER's total
first (compare shares, not counts). --format svg (default) or folded: "stack BEFORE AFTER"
per line, as flamegraph.pl reads for differential graphs (BEFORE rounded when normalized).

No root needed; no kernel access.
`;

/** Reads a file, or stdin when `path` is undefined; unreadable is a usage error. */
function readText(path: string | undefined): string {
  try {
    return readFileSync(path ?? 0, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path ?? 'stdin'}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Source: folded stacks in a file or stdin, as a tree with root `all`. */
export function readFoldedSource(path: string | undefined): FlameNode {
  const name = path ?? 'stdin';
  let tree: FlameNode;
  try {
    tree = parseFolded(readText(path));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${name}: ${(error as Error).message}`);
  }
  if (tree.v === 0) throw new UsageError(`${name} holds no samples`);
  return tree;
}

/** Source of --diff: the two folded files. */
export function readDiffSource(beforePath: string, afterPath: string): { before: FlameNode; after: FlameNode } {
  return { before: readFoldedSource(beforePath), after: readFoldedSource(afterPath) };
}

export interface FlameOutputOptions {
  title: string;
  icicle: boolean;
  interactive: boolean;
  /** Sampling rate, for pprof's cpu nanoseconds. */
  hz?: number;
}

/** Output: one tree in one format. */
export function renderFlame(tree: FlameNode, format: ExportFormat, options: FlameOutputOptions): string | Uint8Array {
  switch (format) {
    case 'svg':
      return renderFlameSvg(tree, { title: options.title, subtitle: `${tree.v} samples`, icicle: options.icicle, interactive: options.interactive });
    case 'json':
      return JSON.stringify(toD3Json(tree)) + '\n';
    case 'speedscope':
      return JSON.stringify(speedscopeFromFolded(treeToFolded(tree), { name: options.title })) + '\n';
    case 'folded':
      return treeToFolded(tree);
    case 'pprof':
      return flameTreeToPprof(tree, { periodNs: options.hz ? 1e9 / options.hz : undefined, gzip: (data) => gzipSync(data) });
  }
}

/** Output of --diff: a differential flame graph SVG, or two-column folded text. */
export function renderDiff(before: FlameNode, after: FlameNode, format: DiffFormat, normalize: boolean, options: FlameOutputOptions): string {
  if (format === 'folded') return diffToFolded(before, after, { normalize });
  return renderDiffSvg(diffTrees(before, after, { normalize }), { title: options.title, icicle: options.icicle, interactive: options.interactive });
}

function write(output: string | undefined, data: string | Uint8Array): void {
  if (output) {
    try {
      writeFileSync(output, data);
    } catch (error) {
      throw new UsageError(`cannot write ${output}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  } else {
    process.stdout.write(data);
  }
}

export async function runExport(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    argv,
    {
      input: { type: 'string', short: 'i' },
      format: { type: 'string', short: 'f' },
      output: { type: 'string', short: 'o' },
      title: { type: 'string' },
      icicle: { type: 'boolean' },
      static: { type: 'boolean' },
      hz: { type: 'string' },
      diff: { type: 'boolean' },
      normalize: { type: 'boolean' },
    },
    2,
  );
  if (values.help) {
    process.stdout.write(EXPORT_HELP);
    return 0;
  }
  const output = stringOption(values.output);
  const input = stringOption(values.input);
  const options: FlameOutputOptions = {
    title: stringOption(values.title) ?? (values.diff ? 'probeboard differential flame graph' : 'probeboard flame graph'),
    icicle: values.icicle === true,
    interactive: values.static !== true,
  };

  if (values.diff) {
    if (positionals.length !== 2) throw new UsageError('--diff needs two folded files: --diff BEFORE AFTER');
    if (input !== undefined) throw new UsageError('--input or --diff, not both');
    if (values.hz !== undefined) throw new UsageError('--hz is for --format pprof, not --diff');
    const format = choiceOption('format', values.format, DIFF_FORMATS, 'svg');
    const { before, after } = readDiffSource(positionals[0], positionals[1]);
    write(output, renderDiff(before, after, format, values.normalize === true, options));
    return 0;
  }

  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} (--input FILE, or --diff BEFORE AFTER)`);
  if (values.normalize) throw new UsageError('--normalize is for --diff');
  if (values.format === undefined) throw new UsageError('--format is required (svg, json, speedscope, folded or pprof)');
  const format = choiceOption('format', values.format, EXPORT_FORMATS, 'svg');
  if (values.hz !== undefined) {
    if (format !== 'pprof') throw new UsageError('--hz is for --format pprof');
    options.hz = intOption('hz', values.hz, 0, 1, 1_000_000);
  }
  if (format === 'pprof' && !output && process.stdout.isTTY) {
    throw new UsageError('pprof is binary: write it with --output FILE or to a pipe, not to a terminal');
  }
  const tree = readFoldedSource(input);
  write(output, renderFlame(tree, format, options));
  return 0;
}
