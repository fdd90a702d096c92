import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { cleanFileMappings, releaseCleanFilePages } from './resident-pages.ts';

const SMAPS = `00400000-00b6f000 r--p 00000000 08:01 1234 /usr/bin/node
Size:               7612 kB
Rss:                7228 kB
Anonymous:             0 kB
00b72000-025fe000 r-xp 00772000 08:01 1234 /usr/bin/node
Rss:               20728 kB
Anonymous:             0 kB
0563a000-0563e000 r--p 0523a000 08:01 1234 /usr/bin/node
Rss:                  16 kB
Anonymous:            16 kB
0563e000-0565d000 rw-p 0523e000 08:01 1234 /usr/bin/node
Rss:                 124 kB
Anonymous:             4 kB
7f0000000000-7f0000100000 rw-p 00000000 00:00 0
Rss:                1024 kB
Anonymous:          1024 kB
7f0000200000-7f0000300000 r--s 00000000 08:01 99 /shared/file
Rss:                  64 kB
Anonymous:             0 kB
7f0000400000-7f0000500000 r-xp 00000000 08:01 77 /old/lib.so (deleted)
Rss:                  64 kB
Anonymous:             0 kB
7f0000600000-7f0000700000 r-xp 00000000 08:01 78 /lib/never-touched.so
Rss:                   0 kB
Anonymous:             0 kB
7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0 [vdso]
Rss:                   8 kB
Anonymous:             0 kB
7f0000800000-7f0000900000 r-xp 00000000 08:01 79 /lib/no-anonymous-line.so
Rss:                  40 kB
`;

test('only private, read-only file mappings without copied pages are released', () => {
  const picked = cleanFileMappings(SMAPS).map((m) => `${m.start.toString(16)} ${m.path} ${m.rssKb}`);
  assert.deepEqual(picked, ['400000 /usr/bin/node 7228', 'b72000 /usr/bin/node 20728'], `picked: ${JSON.stringify(picked)}`);
});

/** Resident kB of this process's mappings of node's own binary. */
function nodeBinaryRssKb(): number {
  let inNode = false;
  let kb = 0;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) inNode = header[1] === process.execPath;
    else if (inNode && line.startsWith('Rss:')) kb += Number(/(\d+)/.exec(line)![1]);
  }
  return kb;
}

test('a real release lowers the resident pages of node itself, and the process keeps running', () => {
  const before = nodeBinaryRssKb();
  const releasedKb = releaseCleanFilePages();
  const after = nodeBinaryRssKb();
  // Code still runs (pages come back on access) and gives the same answers.
  const sum = JSON.parse(JSON.stringify([1, 2, 3])).reduce((a: number, b: number) => a + b, 0);
  assert.equal(sum, 6, `code after the release computed ${sum}`);
  assert.ok(releasedKb > 0, `released ${releasedKb} kB`);
  assert.ok(after < before / 2, `node's binary: ${before} kB resident before, ${after} kB after releasing ${releasedKb} kB`);
});
