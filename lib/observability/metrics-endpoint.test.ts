import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { metrics } from './metrics';
import { serveMetrics } from './metrics-endpoint';

const TOKEN = 'metrics-token-0123456789abcdef';
const get = (headers: Record<string, string> = {}) => new Request('http://localhost/metrics', { headers });

async function scrape(res: Response) {
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return res.text();
}

describe('GET /metrics', () => {
  metrics.receipts.inc({
    provider: 'skylight',
    source: 'skylightchat',
    outcome: 'accepted',
    event_type: 'contact.created',
  });

  test('without METRICS_TOKEN it is scrapeable by anyone, and never names the Node version', async () => {
    const text = await scrape(await serveMetrics(get(), undefined));
    assert.match(
      text,
      /skylight_receipts_total\{provider="skylight",source="skylightchat",outcome="accepted",event_type="contact.created"\} 1/,
    );
    assert.match(text, /process_cpu_user_seconds_total/);
    assert.doesNotMatch(text, /nodejs_version_info|v\d+\.\d+\.\d+/);
  });

  test('with METRICS_TOKEN only the bearer token is answered; everything else is a 401 that says nothing', async () => {
    for (const headers of <Record<string, string>[]>[
      {},
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` },
      { authorization: TOKEN },
      { authorization: `Bearer ${TOKEN} extra` },
      { cookie: `token=${TOKEN}` },
    ]) {
      const res = await serveMetrics(get(headers), TOKEN);
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="metrics"');
      const body = await res.text();
      assert.equal(JSON.parse(body).error.code, 'unauthorized');
      assert.doesNotMatch(body, /skylight_|process_/);
    }
    const text = await scrape(await serveMetrics(get({ authorization: `bearer ${TOKEN}` }), TOKEN));
    assert.match(text, /skylight_receipts_total/);
    assert.doesNotMatch(text, /nodejs_version_info/);
  });
});
