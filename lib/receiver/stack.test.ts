import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ourSourceOfUrl } from './stack';

test("a provider webhook's URL is one of our receivers only under our public URL, when we know it", () => {
  const app = 'https://hooks.example.com/ops';
  assert.equal(ourSourceOfUrl('https://hooks.example.com/ops/api/webhooks/orders', app), 'orders');
  assert.equal(ourSourceOfUrl('https://hooks.example.com/ops/api/webhooks/orders/', app), 'orders');
  // Another deployment's receiver at the same path (staging), or outside our base path: not ours.
  assert.equal(ourSourceOfUrl('https://staging.example.com/ops/api/webhooks/orders', app), null);
  assert.equal(ourSourceOfUrl('https://hooks.example.com/api/webhooks/orders', app), null);
  assert.equal(ourSourceOfUrl('https://hooks.example.com/ops/api/other/orders', app), null);
  assert.equal(ourSourceOfUrl('not a url', app), null);
  // Without a public URL, the path alone decides.
  assert.equal(ourSourceOfUrl('https://anywhere.test/api/webhooks/sly', null), 'sly');
});
