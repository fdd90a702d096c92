/** `probeboard export`: turn folded stacks (ours, perf's stackcollapse, bpftrace's) into another format. */
import { readFileSync, writeFileSync } from 'node:fs';
import { choiceOption, parseCommandLine, stringOption, UsageError } from './args.ts';
import { parseFolded } from '../aggregator/folded.ts';
import { renderFlameSvg } from '../../lib/flame/svg.ts';
import { toD3Json } from '../../lib/flame/d3json.ts';
import { speedscopeFromFolded } from '../../lib/flame/speedscope.ts';
import { treeToFolded } from '../../lib/flame/tree.ts';

const FORMATS = ['svg', 'json', 'speedscope', 'folded'] as const;

export const EXPORT_HELP = `usage: probeboard export [--input FILE] --format svg|json|speedscope|folded
                        [--output FILE] [--title TEXT] [--icicle]

Reads folded stacks ("frame;frame;frame COUNT" per line, root first; kernel frames may end
in _[k]) from FILE or stdin — e.g. saved by \`probeboard profile\` — and writes them as:
  svg          the standalone flame graph the dashboard exports
  json         the d3-flame-graph tree {name, value, children}
  speedscope   a file speedscope opens
  folded       normalized folded stacks (merged, sorted)
No root needed; no kernel access.
`;

export async function runExport(argv: string[]): Promise<number> {
  const { values } = parseCommandLine(
    argv,
    {
      input: { type: 'string', short: 'i' },
      format: { type: 'string', short: 'f' },
      output: { type: 'string', short: 'o' },
      title: { type: 'string' },
      icicle: { type: 'boolean' },
    },
    0,
  );
  if (values.help) {
    process.stdout.write(EXPORT_HELP);
    return 0;
  }
  if (values.format === undefined) throw new UsageError('--format is required (svg, json, speedscope or folded)');
  const format = choiceOption('format', values.format, FORMATS, 'svg');
  const input = stringOption(values.input);
  let text: string;
  try {
    text = readFileSync(input ?? 0, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${input ?? 'stdin'}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let tree;
  try {
    tree = parseFolded(text);
  } catch (error) {
    throw new UsageError(`${input ?? 'stdin'}: ${(error as Error).message}`);
  }
  if (tree.v === 0) throw new UsageError(`${input ?? 'stdin'} holds no samples`);
  const title = stringOption(values.title) ?? 'probeboard flame graph';
  const folded = treeToFolded(tree);
  let out: string;
  switch (format) {
    case 'svg':
      out = renderFlameSvg(tree, { title, subtitle: `${tree.v} samples`, icicle: values.icicle === true });
      break;
    case 'json':
      out = JSON.stringify(toD3Json(tree)) + '\n';
      break;
    case 'speedscope':
      out = JSON.stringify(speedscopeFromFolded(folded, { name: title })) + '\n';
      break;
    case 'folded':
      out = folded;
      break;
  }
  const output = stringOption(values.output);
  if (output) writeFileSync(output, out);
  else process.stdout.write(out);
  return 0;
}
