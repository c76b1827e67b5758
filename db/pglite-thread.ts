import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PGlite } from '@electric-sql/pglite';

/**
 * PGlite on a worker thread (db/pglite-worker.mjs), with the part of PGlite's interface drizzle's
 * driver uses: `query` and `transaction`.
 *
 * Why: PGlite is Postgres compiled to WASM; on the main thread every statement runs on the thread
 * that also serves HTTP, verifies signatures and runs the worker's handlers, and the default
 * configuration (`npm start` on PGlite) was bound by that one thread (BENCHMARKS.md, issue #19). On
 * a thread of its own the database uses the machine's second core. Statements still run one at a
 * time, in the order PGlite's own locks give them, and a transaction still holds the database until
 * it ends: only where the work runs changes.
 */
export class PGliteThread {
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private stopped: Error | null = null;
  /** Calls awaiting an answer and transactions open: the thread keeps the process alive only then. */
  private busy = 0;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: { id: number; result?: unknown; error?: Record<string, unknown> }) => {
      const call = this.calls.get(m.id);
      if (!call) return;
      this.calls.delete(m.id);
      this.release();
      if (m.error) call.reject(asError(m.error));
      else call.resolve(m.result);
    });
    const stop = (err: Error) => {
      this.stopped ??= err;
      for (const call of this.calls.values()) call.reject(this.stopped);
      this.busy -= this.calls.size;
      this.calls.clear();
    };
    worker.on('error', (err) => stop(new Error(`embedded database thread failed: ${err.message}`)));
    worker.on('exit', (code) => stop(new Error(`embedded database thread exited (${code})`)));
  }

  /**
   * Starts the thread and opens the database in `dataDir` (a folder, or `memory://`); with `from`, a
   * file written from dump(), the database starts as that copy instead of a new, empty cluster.
   */
  static async open(dataDir: string, opts: { from?: string } = {}): Promise<PGliteThread> {
    const worker = new Worker(path.join(process.cwd(), 'db', 'pglite-worker.mjs'), {
      workerData: { dataDir, from: opts.from },
    });
    const ready = await new Promise<{ ready: boolean; error?: Record<string, unknown> }>(
      (resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      },
    );
    if (!ready.ready) {
      await worker.terminate();
      throw asError(ready.error ?? {});
    }
    worker.unref();
    return new PGliteThread(worker);
  }

  /**
   * Like an in-process PGlite, an idle thread does not keep the process alive (a script that ends
   * without closing still exits), a call or an open transaction does.
   */
  private hold() {
    if (this.busy++ === 0) this.worker.ref();
  }

  private release() {
    if (--this.busy === 0) this.worker.unref();
  }

  private call<T>(message: Record<string, unknown>): Promise<T> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    this.hold();
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...message, id });
    });
  }

  async query<T>(sql: string, params: unknown[] = [], options: QueryOptions = {}, tx?: number) {
    return this.call<{ rows: T[]; fields: { name: string; dataTypeID: number }[]; affectedRows?: number }>({
      op: 'query',
      sql,
      params,
      rowMode: options.rowMode ?? 'object',
      textTypes: textTypes(options.parsers),
      tx,
    });
  }

  /** Runs `fn` in a transaction: committed when it resolves, rolled back when it throws. */
  async transaction<T>(fn: (tx: { query: PGliteThread['query'] }) => Promise<T>): Promise<T> {
    const tx = this.nextId++;
    await this.call({ op: 'begin', tx });
    this.hold();
    try {
      let result: T;
      try {
        result = await fn({ query: (sql, params, options) => this.query(sql, params, options, tx) });
      } catch (err) {
        await this.call({ op: 'end', tx, commit: false }).catch(() => {});
        throw err;
      }
      await this.call({ op: 'end', tx, commit: true });
      return result;
    } finally {
      this.release();
    }
  }

  /** The whole data folder as an uncompressed tar (PGlite's dumpDataDir), for open()'s `from`. */
  dump(): Promise<Uint8Array> {
    return this.call<Uint8Array>({ op: 'dump' });
  }

  async close() {
    if (!this.stopped) await this.call({ op: 'close' }).catch(() => {});
    await this.worker.terminate();
  }

  /** For drizzle's PGlite driver, which calls only `query` and `transaction`. */
  asPGlite(): PGlite {
    return this as unknown as PGlite;
  }
}

type QueryOptions = { rowMode?: 'array' | 'object'; parsers?: Record<number, (text: string) => unknown> };

/**
 * Functions cannot cross to the thread. drizzle's parsers keep a type's text unchanged (its dates and
 * times), and that is the only kind the thread applies: any other is refused, never silently dropped.
 */
function textTypes(parsers: QueryOptions['parsers'] = {}): number[] {
  return Object.entries(parsers).map(([oid, parse]) => {
    if (parse('2000-01-01') !== '2000-01-01')
      throw new Error(`PGliteThread: parser for type ${oid} must keep the text`);
    return Number(oid);
  });
}

/** The thread's error as an Error with the same fields (code, detail, …), so sqlState() reads it. */
function asError(fields: Record<string, unknown>): Error {
  const err = new Error(String(fields.message ?? 'embedded database error'));
  Object.assign(err, fields);
  return err;
}
