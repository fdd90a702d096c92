import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { checkHostAndOrigin, hostPolicy, isLoopbackHost, tokenFromRequest, tokenMatches } from './security.ts';

const req = (headers: Record<string, string>, url = '/'): IncomingMessage => ({ headers, url }) as unknown as IncomingMessage;

test('loopback addresses', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) assert.ok(isLoopbackHost(host), host);
  for (const host of ['0.0.0.0', '10.0.0.1', '192.168.1.5', 'example.com', '::']) assert.ok(!isLoopbackHost(host), host);
});

test('Host must name this server; Origin, when sent, must match Host', () => {
  const policy = hostPolicy('127.0.0.1', 7070);
  assert.equal(checkHostAndOrigin(policy, req({ host: '127.0.0.1:7070' })), null);
  assert.equal(checkHostAndOrigin(policy, req({ host: 'LOCALHOST:7070' })), null);
  assert.match(checkHostAndOrigin(policy, req({ host: 'attacker.example:7070' }))!, /DNS rebinding/);
  assert.match(checkHostAndOrigin(policy, req({}))!, /Host/);
  assert.match(checkHostAndOrigin(policy, req({ host: '127.0.0.1:7071' }))!, /Host/);
  assert.equal(checkHostAndOrigin(policy, req({ host: 'localhost:7070', origin: 'http://localhost:7070' })), null);
  assert.match(checkHostAndOrigin(policy, req({ host: 'localhost:7070', origin: 'http://evil.example' }))!, /cross-origin/);
  assert.match(checkHostAndOrigin(policy, req({ host: 'localhost:7070', origin: 'null' }))!, /opaque/);
  const wildcard = hostPolicy('0.0.0.0', 7070);
  assert.equal(checkHostAndOrigin(wildcard, req({ host: 'box.lan:7070' })), null);
});

test('the token comes from the query, a bearer header or the cookie, compared in constant time', () => {
  assert.equal(tokenFromRequest(req({}, '/?token=abc')), 'abc');
  assert.equal(tokenFromRequest(req({ authorization: 'Bearer xyz' })), 'xyz');
  assert.equal(tokenFromRequest(req({ cookie: 'a=1; pb_token=t%20k' })), 't k');
  assert.equal(tokenFromRequest(req({ cookie: 'pb_token=%E0%A4%A' })), null);
  assert.equal(tokenFromRequest(req({})), null);
  assert.equal(tokenMatches('secret-1', 'secret-1'), true, 'the same token');
  assert.equal(tokenMatches('secret-1', 'secret-2'), false, 'a different token');
  assert.equal(tokenMatches('secret-1', 'secret'), false, 'a prefix of the token');
  assert.equal(tokenMatches('secret-1', undefined), false, 'no token');
});
