import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import { fromIncoming } from './node-request';

test('a body read after the client left settles at once (its reserved bytes come back)', {
  timeout: 5000,
}, async () => {
  // The stored-source lookup runs before the body is read: a client can leave during it.
  let outcome: Promise<string> | null = null;
  const server = createServer((req: IncomingMessage) => {
    // (events.once would reject on the reset's 'error'; node emits it only to listeners.)
    outcome = new Promise((r) => req.once('close', r)).then(() =>
      Promise.race([
        fromIncoming(req, performance.now())
          .readBody(1_048_576)
          .then(
            () => 'resolved',
            () => 'rejected',
          ),
        new Promise<string>((r) => setTimeout(() => r('never settled'), 1000)),
      ]),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  try {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(
      'POST /api/webhooks/s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n{"a":',
    );
    while (!outcome) await new Promise((r) => setTimeout(r, 10));
    socket.destroy();
    assert.equal(await outcome, 'rejected');
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('the client address is the socket, or behind TRUST_PROXY the one the proxy forwarded', async () => {
  const seen: Array<string | null> = [];
  let trust: boolean | number = false;
  const server = createServer((req, res) => {
    seen.push(fromIncoming(req, performance.now(), trust).clientAddress);
    res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const send = () =>
    fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-forwarded-for': '198.51.100.9, 203.0.113.7' } });
  try {
    await send();
    trust = 1;
    await send();
    trust = true;
    await send();
    assert.deepEqual(seen, ['127.0.0.1', '203.0.113.7', '198.51.100.9']);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
