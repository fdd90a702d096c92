/**
 * docs/protocol.md and the schemas cannot drift: every message name in lib/schema/messages.ts
 * (client requests and server messages) has a row in one of the doc's tables, every message a
 * table row names exists in the schemas, and the export route's query parameters are the ones
 * its schema reads. Run: node --import tsx --test lib/schema/protocol-doc.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CLIENT_REQUESTS, SERVER_MESSAGES } from './messages.ts';
import { ExportQuerySchema } from './http.ts';

const DOC = readFileSync(path.resolve(import.meta.dirname, '../../docs/protocol.md'), 'utf8');

/** The first cells (backticked names) of the first table after `heading`. */
function tableNames(markdown: string, heading: string): string[] {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) return [];
  const tableStart = markdown.indexOf('\n|', start);
  const tableEnd = markdown.indexOf('\n\n', tableStart + 1);
  const table = markdown.slice(tableStart, tableEnd < 0 ? undefined : tableEnd);
  return [...table.matchAll(/^\| `([A-Za-z:*]+)`/gm)].map((match) => match[1]);
}

/**
 * Message names in the doc: `family:name` in the first cell of any table row, and every name in
 * the two tables that list messages only (server → client, client → server; `hello` has no family).
 */
export function documentedMessages(markdown: string): Set<string> {
  const names = new Set<string>();
  for (const match of markdown.matchAll(/^\| `([a-z]+:[a-z]+)`/gm)) names.add(match[1]);
  for (const heading of ['## Server → client', '## Client → server']) {
    for (const name of tableNames(markdown, heading)) if (!name.includes('*')) names.add(name);
  }
  return names;
}

/** What one side lists that the other does not, both ways. */
export function drift(documented: Set<string>, defined: Set<string>): { undocumented: string[]; unknown: string[] } {
  return {
    undocumented: [...defined].filter((name) => !documented.has(name)).sort(),
    unknown: [...documented].filter((name) => !defined.has(name)).sort(),
  };
}

const DEFINED = new Set([...Object.keys(CLIENT_REQUESTS), ...Object.keys(SERVER_MESSAGES)]);

test('every message of the schemas is documented in docs/protocol.md, and every documented one exists', () => {
  const { undocumented, unknown } = drift(documentedMessages(DOC), DEFINED);
  assert.deepEqual(undocumented, [], `messages in lib/schema/messages.ts without a row in docs/protocol.md: ${undocumented.join(', ')}`);
  assert.deepEqual(unknown, [], `messages documented in docs/protocol.md that no schema defines: ${unknown.join(', ')}`);
});

test('the check fails when the doc and the schemas drift', () => {
  const withoutFrame = DOC.replace(/^\| `latency:frame` .*\n/gm, '');
  const withoutHello = DOC.replace(/^\| `hello` .*\n/gm, '');
  const withExtra = `${DOC}\n| \`probe:explode\` | x | y |\n`;
  assert.deepEqual(drift(documentedMessages(withoutFrame), DEFINED).undocumented, ['latency:frame'], 'a message the doc lost is named');
  assert.deepEqual(drift(documentedMessages(withoutHello), DEFINED).undocumented, ['hello'], 'a message without a family is named too');
  assert.deepEqual(drift(documentedMessages(withExtra), DEFINED).unknown, ['probe:explode'], 'a message the schemas lost is named');
});

test('the export query parameters documented are the ones the schema reads', () => {
  const section = DOC.slice(DOC.indexOf('### Exports: `GET /api/sessions/<id>/export`'));
  const table = section.slice(section.indexOf('| parameter |'), section.indexOf('\n\n', section.indexOf('| parameter |')));
  const documented = new Set([...table.matchAll(/^\| `([A-Za-z]+)`/gm)].map((match) => match[1]));
  assert.ok(documented.size > 0, `the export section has a parameter table: ${table.slice(0, 200)}`);
  const options = ExportQuerySchema.pipe[0].options;
  const defined = new Set(options.flatMap((option) => Object.keys(option.entries)));
  const { undocumented, unknown } = drift(documented, defined);
  assert.deepEqual(undocumented, [], `export parameters the schema reads but the doc does not list: ${undocumented.join(', ')}`);
  assert.deepEqual(unknown, [], `export parameters the doc lists but the schema does not read: ${unknown.join(', ')}`);
});
