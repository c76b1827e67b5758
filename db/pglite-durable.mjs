// PGlite on a folder whose commits reach the disk. Plain JavaScript, like the worker that uses it.
import { fsyncSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

/**
 * PGlite starts Postgres with `-F` (fsync off), and Emscripten's NODEFS, which maps Postgres's files
 * onto the folder, has no fsync operation (its fdatasync is a no-op): a commit, and so an ack, had only
 * reached the operating system's page cache, and a power loss or kernel crash could take deliveries
 * the provider had seen answered 2xx. Here Postgres runs with fsync on and flushes its WAL with
 * fsync(2), the one method that reaches a file system's fsync operation, which NODEFS is given below.
 * Measured with 500 one-row commits on this machine's disk: 0.22–0.32 ms per commit without, 0.44–0.51
 * ms with, one fsync per commit at 0.19–0.24 ms each; the receiver's group commit shares one among a batch.
 */
export const DURABLE_START_PARAMS = [
  ...PGlite.defaultStartParams.filter((p) => p !== '-F'),
  '-c',
  'wal_sync_method=fsync',
];

/** PGlite's NodeFS with an fsync that reaches the disk (`fsync` is replaceable for tests). */
export class DurableNodeFS extends NodeFS {
  constructor(dir, fsync = fsyncSync) {
    super(dir);
    this.fsync = fsync;
  }

  async init(pg, opts) {
    const setup = await super.init(pg, opts);
    const fsync = this.fsync;
    setup.emscriptenOpts.preRun.push((mod) => {
      // tryFSOperation turns a failed call into the errno Postgres sees (it then stops: a failed
      // fsync is never retried as if it had succeeded).
      mod.NODEFS.stream_ops.fsync = (stream) => {
        if (stream.nfd !== undefined) mod.NODEFS.tryFSOperation(() => fsync(stream.nfd));
        return 0;
      };
    });
    return setup;
  }
}
