import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ViewerLinkInfo } from '../../lib/protocol-session.ts';
import { addLink, MAX_DEAD_SHOWN, removeLink, replaceLinks } from './links.ts';

const NOW = 1_000_000;
const link = (id: string, createdAtMs = NOW - 1000, expiresAtMs = NOW + 60_000): ViewerLinkInfo => ({ id, label: id, createdAtMs, expiresAtMs, revoked: false });

test('the page keeps the full list from session:state and applies link:added / link:removed', () => {
  let links = replaceLinks([], [link('a', 1), link('b', 2)], NOW);
  assert.deepEqual(links.map((l) => l.id), ['a', 'b']);
  links = addLink(links, link('c', 3));
  links = addLink(links, link('c', 3)); // a repeat changes nothing
  assert.deepEqual(links.map((l) => l.id), ['a', 'b', 'c']);
  links = removeLink(links, { id: 'b', reason: 'revoked' }, NOW);
  assert.equal(links.find((l) => l.id === 'b')?.revoked, true, 'a revoked link stays shown, marked');
  links = removeLink(links, { id: 'a', reason: 'expired' }, NOW);
  assert.ok(links.find((l) => l.id === 'a')!.expiresAtMs <= NOW, 'an expired link shows as expired');
  // A later full list (reconnect) keeps what this page showed as dead, and takes the server's live list.
  links = replaceLinks(links, [link('c', 3), link('d', 4)], NOW);
  assert.deepEqual(links.map((l) => [l.id, l.revoked || l.expiresAtMs <= NOW]), [['a', true], ['b', true], ['c', false], ['d', false]]);
});

test('malformed deltas change nothing; dead links shown are bounded', () => {
  const links = [link('a')];
  for (const bad of [null, 'x', { id: 3 }, [link('z')], { ...link('y'), revoked: 'no' }]) assert.equal(addLink(links, bad), links);
  for (const bad of [null, 42, { reason: 'revoked' }]) assert.equal(removeLink(links, bad, NOW), links);
  assert.equal(replaceLinks(links, 'nope', NOW), links);

  let many: ViewerLinkInfo[] = [];
  for (let i = 0; i < 100; i++) many = addLink(many, link(`l${i}`, i));
  for (let i = 0; i < 100; i++) many = removeLink(many, { id: `l${i}`, reason: 'revoked' }, NOW);
  assert.equal(many.length, MAX_DEAD_SHOWN, 'only the newest dead links stay');
  assert.equal(many[0].id, `l${100 - MAX_DEAD_SHOWN}`);
});
