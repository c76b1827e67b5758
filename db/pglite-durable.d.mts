import { NodeFS } from '@electric-sql/pglite/nodefs';

/** PGlite's start parameters without `-F` (fsync off), flushing the WAL with fsync(2). */
export declare const DURABLE_START_PARAMS: string[];

/** PGlite's NodeFS with an fsync that reaches the disk; `fsync` replaces node's fsyncSync (tests). */
export declare class DurableNodeFS extends NodeFS {
  constructor(dir: string, fsync?: (fd: number) => void);
}
