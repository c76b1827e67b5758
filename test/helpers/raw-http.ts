import net from 'node:net';

export type RawResponse = {
  /** Status code of the first response line, or null when the server answered nothing. */
  status: number | null;
  head: string;
  body: string;
  /** Socket error code (ECONNRESET, EPIPE, timeout), if the exchange ended with one. */
  error: string | null;
  bytesWritten: number;
};

export type RawIo = {
  /** Writes a chunk; resolves false once the server has answered or closed (stop sending then). */
  write(chunk: string | Uint8Array): Promise<boolean>;
  end(chunk?: string | Uint8Array): void;
  /** The client giving up: the socket is destroyed without finishing the request. */
  destroy(): void;
};

/**
 * Speaks HTTP/1.1 by hand over a socket, for requests node's own client refuses to send (CR/LF in
 * header values, raw bytes, headers far over the parser's limit, bodies that never end). Never
 * rejects: socket errors after or instead of an answer are reported in `error`.
 */
export function rawExchange(
  port: number,
  send: (io: RawIo) => Promise<void> | void,
  opts: { timeoutMs?: number } = {},
): Promise<RawResponse> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let error: string | null = null;
    let answered = false;
    let closed = false;
    let bytesWritten = 0;
    sock.on('data', (c) => {
      answered = true;
      chunks.push(c);
    });
    sock.on('error', (err) => {
      error ??= (err as NodeJS.ErrnoException).code ?? err.message;
    });
    sock.setTimeout(opts.timeoutMs ?? 5000, () => {
      error ??= 'timeout';
      sock.destroy();
    });
    sock.on('close', () => {
      closed = true;
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split < 0 ? text : text.slice(0, split);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve({
        status: m ? Number(m[1]) : null,
        head,
        body: split < 0 ? '' : text.slice(split + 4),
        error,
        bytesWritten,
      });
    });
    const io: RawIo = {
      write: async (chunk) => {
        if (answered || closed || sock.destroyed) return false;
        bytesWritten += typeof chunk === 'string' ? Buffer.byteLength(chunk, 'latin1') : chunk.byteLength;
        const flushed = sock.write(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
        if (!flushed) {
          await new Promise<void>((r) => {
            const done = () => {
              sock.off('drain', done);
              sock.off('close', done);
              sock.off('data', done);
              r();
            };
            sock.on('drain', done);
            sock.on('close', done);
            sock.on('data', done);
          });
        }
        // Give the server's answer a chance to arrive before the next chunk.
        await new Promise((r) => setImmediate(r));
        return !answered && !closed && !sock.destroyed;
      },
      end: (chunk) => {
        if (closed || sock.destroyed) return;
        if (chunk === undefined) sock.end();
        else sock.end(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
      },
      destroy: () => sock.destroy(),
    };
    sock.once('connect', () => {
      Promise.resolve(send(io)).catch((err: Error) => {
        error ??= err.message;
        sock.destroy();
      });
    });
  });
}

/** One request written in a single piece. */
export function rawRequest(port: number, request: string | Uint8Array, opts: { timeoutMs?: number } = {}) {
  return rawExchange(port, async (io) => void (await io.write(request)), opts);
}

/**
 * Builds an HTTP/1.1 request by hand. Header values are not validated (that is the point) and go
 * out byte for byte as latin1, so `'\x85'` is the single byte 0x85. `Connection: close` makes the
 * server close after its answer, so `rawExchange` resolves without waiting for a timeout.
 */
export function buildRequest(opts: {
  method?: string;
  path: string;
  headers: Array<[string, string]>;
  body?: string | Uint8Array;
}): Buffer {
  const body =
    opts.body === undefined
      ? Buffer.alloc(0)
      : typeof opts.body === 'string'
        ? Buffer.from(opts.body, 'utf8')
        : Buffer.from(opts.body);
  const lines = [`${opts.method ?? 'POST'} ${opts.path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  for (const [k, v] of opts.headers) lines.push(`${k}: ${v}`);
  if (!opts.headers.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k)))
    lines.push(`Content-Length: ${body.byteLength}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}
