// A Slack-compatible notification sink for the e2e run, with an outage switch: while it is on, every
// notification gets a 503, so the example handlers fail transiently until their events are dead.
import { createServer } from 'node:http';
import { DOWNSTREAM_PORT } from './env';

let outage = false;
let received = 0;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/health') return send(200, { outage, received });
    if (req.method === 'POST' && req.url === '/outage') {
      outage = (JSON.parse(Buffer.concat(chunks).toString() || '{}') as { on?: boolean }).on === true;
      return send(200, { outage });
    }
    if (req.method === 'POST' && req.url === '/notify') {
      received++;
      return outage ? send(503, { error: 'outage' }) : send(200, { ok: true });
    }
    send(404, { error: 'not found' });
  });
});
server.listen(DOWNSTREAM_PORT, '127.0.0.1');
for (const s of ['SIGTERM', 'SIGINT'] as const) process.once(s, () => server.close(() => process.exit(0)));
