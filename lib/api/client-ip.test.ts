import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientAddress, clientKey } from './client-ip';

const h = (o: Record<string, string>) => new Headers(o);

test('without TRUST_PROXY forwarded headers are ignored: only the socket counts', () => {
  const headers = h({ 'x-forwarded-for': '1.2.3.4', 'x-real-ip': '5.6.7.8' });
  assert.equal(clientAddress(headers, false, '10.0.0.9'), '10.0.0.9');
  assert.equal(clientAddress(headers, 0, '10.0.0.9'), '10.0.0.9');
});

test('TRUST_PROXY=true takes the first hop; a count takes the hop that many proxies saw', () => {
  const headers = h({ 'x-forwarded-for': '6.6.6.6, 1.2.3.4, 10.0.0.2' });
  assert.equal(clientAddress(headers, true, '10.0.0.1'), '6.6.6.6');
  // One proxy (10.0.0.1) in front: it appended what it saw, 10.0.0.2; what the client wrote is ignored.
  assert.equal(clientAddress(headers, 1, '10.0.0.1'), '10.0.0.2');
  assert.equal(clientAddress(headers, 2, '10.0.0.1'), '1.2.3.4');
  assert.equal(clientAddress(headers, 9, '10.0.0.1'), '6.6.6.6', 'more hops than given: the first');
});

test('junk in a trusted header falls back to the socket; X-Real-IP only when there is no X-Forwarded-For', () => {
  assert.equal(clientAddress(h({ 'x-forwarded-for': 'not-an-ip' }), true, '10.0.0.1'), '10.0.0.1');
  assert.equal(clientAddress(h({ 'x-real-ip': '7.7.7.7' }), 1, '10.0.0.1'), '7.7.7.7');
  assert.equal(clientAddress(h({ 'x-real-ip': '<script>' }), 1, '10.0.0.1'), '10.0.0.1');
});

test('a proxy that writes the port with the address (Azure, IIS): the address still counts', () => {
  assert.equal(clientAddress(h({ 'x-forwarded-for': '203.0.113.7:51234' }), 1, '10.0.0.1'), '203.0.113.7');
  assert.equal(clientAddress(h({ 'x-forwarded-for': '[2001:db8::1]:443' }), 1, '10.0.0.1'), '2001:db8::1');
  assert.equal(clientAddress(h({ 'x-forwarded-for': '[2001:db8::2]' }), 1, '10.0.0.1'), '2001:db8::2');
  // A bare IPv6 address is not read as address:port.
  assert.equal(clientAddress(h({ 'x-forwarded-for': '2001:db8::3' }), 1, '10.0.0.1'), '2001:db8::3');
  assert.equal(clientAddress(h({ 'x-forwarded-for': '1.2.3.4:port' }), 1, '10.0.0.1'), '10.0.0.1');
});

test('the peer header counts only when our own entry marked it trusted', () => {
  assert.equal(clientAddress(h({ 'x-skylight-peer': '9.9.9.9' }), false), 'unknown');
});

test('per-client keys: IPv4 as is, IPv6 by its /64, whatever the spelling', () => {
  assert.equal(clientKey('203.0.113.7'), '203.0.113.7');
  assert.equal(clientKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(clientKey('::1'), '0:0:0:0::/64');
  assert.equal(
    clientKey('::ffff:198.51.100.4'),
    '198.51.100.4',
    'an IPv4-mapped address is its IPv4 address',
  );
  assert.equal(clientKey('unknown'), 'unknown');
});
