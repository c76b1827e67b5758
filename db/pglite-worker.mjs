// The embedded database on a thread of its own (db/pglite-thread.ts says why). Plain JavaScript: it
// is started by path, also where no TypeScript loader is present (`next dev`).
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, parse, protocol, types } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { DURABLE_START_PARAMS, DurableNodeFS } from './pglite-durable.mjs';

/** Open transactions by the main thread's id: the PGlite transaction, and how to end it. */
const open = new Map();

/** Only strings, numbers and booleans of an error cross: its fields, never the query's parameters. */
function plainError(err) {
  const e = err instanceof Error ? err : new Error(String(err));
  const fields = { name: e.name, message: e.message };
  for (const [k, v] of Object.entries(e))
    if (k !== 'params' && k !== 'query' && ['string', 'number', 'boolean'].includes(typeof v)) fields[k] = v;
  return fields;
}

/** Parsers that keep a type's text as it is (what drizzle asks for its date and time types). */
const keepText = (oids) => Object.fromEntries(oids.map((oid) => [oid, (text) => text]));

/**
 * The types drizzle's PGlite driver asks, on every query, to keep as text (drizzle-orm/pglite/session.js:
 * timestamp, timestamptz, interval, date and their arrays, numeric[]). PGlite copies its whole parser
 * table (300+ types) for each query that brings parsers of its own, about 0.15 ms a query here
 * (bench/levers.md): so the table keeps these as text, and a query that asks for exactly these brings none.
 */
const DRIZZLE_TEXT_TYPES = [1114, 1184, 1186, 1082, 1231, 1115, 1185, 1187, 1182];
/** The arrays among them whose element is among them too: PGlite parses an array with the table's element parser. */
const ELEMENT_OF = { 1115: 1114, 1185: 1184, 1187: 1186, 1182: 1082 };
/** The table's own parsers for those types (taken when the database opens), for queries that want them. */
let tableParsers = {};

/** Makes the parser table keep DRIZZLE_TEXT_TYPES as text; after opening, when the array types are known. */
function keepDrizzleTypes(db) {
  tableParsers = Object.fromEntries(DRIZZLE_TEXT_TYPES.map((oid) => [oid, db.parsers[oid]]));
  Object.assign(db.parsers, keepText(DRIZZLE_TEXT_TYPES));
}

/**
 * A query's own parsers: none when it keeps exactly drizzle's types as text. Otherwise the table's own
 * parsers back for those of drizzle's types it does not keep (an array with the table's own element
 * parser, as PGlite would), and text for those it does: the rows it would have had without the table change.
 */
function parsersFor(textTypes) {
  if (
    textTypes.length === DRIZZLE_TEXT_TYPES.length &&
    DRIZZLE_TEXT_TYPES.every((o) => textTypes.includes(o))
  )
    return undefined;
  const own = {};
  for (const oid of DRIZZLE_TEXT_TYPES) {
    const element = ELEMENT_OF[oid];
    own[oid] = element ? (text) => types.arrayParser(text, tableParsers[element], oid) : tableParsers[oid];
  }
  return { ...own, ...keepText(textTypes) };
}

/** Starts a transaction that stays open until the main thread ends it ('end'). */
function begin(id, db) {
  return new Promise((began, failed) => {
    const done = db.transaction(
      (tx) =>
        new Promise((commit, rollback) => {
          open.set(id, { tx, commit, rollback, done });
          began(null);
        }),
    );
    // A BEGIN that fails never reaches the callback; a later failure is 'end''s to report.
    done.catch((err) => {
      if (!open.has(id)) failed(err);
    });
  });
}

async function end(id, commit) {
  const t = open.get(id);
  if (!t) throw new Error(`no open transaction ${id}`);
  open.delete(id);
  if (commit) {
    t.commit(null);
    await t.done;
    return null;
  }
  const rolledBack = new Error('rolled back');
  t.rollback(rolledBack);
  await t.done.catch((err) => {
    if (err !== rolledBack) throw err;
  });
  return null;
}

/**
 * Named statements by their SQL. PGlite's query() parses, describes, binds, describes and executes an
 * unnamed statement, then syncs, in six calls into Postgres, and each run is parsed, analysed and
 * planned again. A named statement is parsed once, Postgres's plan cache keeps its plan (generic once
 * that is as cheap as a custom one), as postgres.js does on a server, and a run is one call: a sixth
 * to a fifth less CPU per delivery at 300–400 deliveries/s (bench/levers.md). Bounded: the least
 * recently used is closed past the limit.
 */
const statements = new Map();
const STATEMENT_LIMIT = 200;
let statementSeq = 0;

/** The named statement for `sql` (parsing it on first use), and its parameters' type ids. */
async function statementFor(sql, inTx) {
  const hit = statements.get(sql);
  if (hit) {
    statements.delete(sql);
    statements.set(sql, hit);
    return hit;
  }
  const name = `s${++statementSeq}`;
  const { messages } = await db.execProtocol(
    Buffer.concat([
      protocol.serialize.parse({ name, text: sql }),
      protocol.serialize.describe({ type: 'S', name }),
      protocol.serialize.sync(),
    ]),
    { syncToFs: !inTx },
  );
  const prepared = { name, paramTypes: parse.parseDescribeStatementResults(messages) };
  statements.set(sql, prepared);
  if (statements.size > STATEMENT_LIMIT) await forget(statements.keys().next().value, inTx);
  return prepared;
}

/** Drops `sql`'s statement here and in Postgres. */
async function forget(sql, inTx) {
  const gone = statements.get(sql);
  statements.delete(sql);
  // Allowed in any transaction state; a failure leaves one unused statement behind, nothing else.
  await db.execProtocol(
    Buffer.concat([protocol.serialize.close({ type: 'S', name: gone.name }), protocol.serialize.sync()]),
    { syncToFs: !inTx, throwOnError: false },
  );
}

/**
 * One query through its named statement: bind, describe, execute and sync in one call into Postgres.
 * A table changed under a statement so that its rows would change shape fails it (0A000, "cached plan
 * must not change result type"): the statement is forgotten, and outside a transaction run once more.
 */
async function runNamed(sql, params, options, inTx) {
  try {
    return await runPrepared(sql, params, options, inTx);
  } catch (err) {
    if (err?.code !== '0A000' || !/cached plan/.test(err.message)) throw err;
    await forget(sql, inTx);
    if (inTx) throw err;
    return await runPrepared(sql, params, options, inTx);
  }
}

async function runPrepared(sql, params, options, inTx) {
  const { name, paramTypes } = await statementFor(sql, inTx);
  const values = params.map((v, i) => {
    if (v === null || v === undefined) return null;
    const serialize = db.serializers[paramTypes[i]];
    return serialize ? serialize(v) : v.toString();
  });
  const { messages } = await db.execProtocol(
    Buffer.concat([
      protocol.serialize.bind({ statement: name, values }),
      protocol.serialize.describe({ type: 'P' }),
      protocol.serialize.execute({}),
      protocol.serialize.sync(),
    ]),
    { syncToFs: !inTx },
  );
  return parse.parseResults(messages, db.parsers, options)[0];
}

/**
 * A query as PGlite's own query() and a transaction's query() would run it (the same locks: a query
 * outside a transaction waits for open ones), through a named statement.
 */
function query(m) {
  const options = { rowMode: m.rowMode, parsers: parsersFor(m.textTypes) };
  const params = m.params ?? [];
  if (m.tx) {
    if (!open.has(m.tx)) throw new Error(`no open transaction ${m.tx}`);
    return db._runExclusiveQuery(() => runNamed(m.sql, params, options, true));
  }
  return db._runExclusiveTransaction(() =>
    db._runExclusiveQuery(() => runNamed(m.sql, params, options, false)),
  );
}

/**
 * receipt_search's two GIN indexes gather new entries in a pending list (4 MB by default, about 400
 * bodies' trigrams) and merge it whole, inside the insert that fills it or in VACUUM: on this one
 * thread that held every other statement, the receiver's included, for 100–300 ms (bench/levers.md).
 * At the minimum, 64 kB, merges are small: in that probe no VACUUM of receipt_search took over 10 ms
 * any more. Only receipt_search's indexes use a pending list.
 */
const GIN_PENDING_LIST = "set gin_pending_list_limit = '64kB'";

let db;
try {
  const inMemory = workerData.dataDir.startsWith('memory://');
  db = await PGlite.create({
    // A folder's commits reach the disk before they are answered (./pglite-durable.mjs); memory has no disk.
    ...(inMemory
      ? { dataDir: workerData.dataDir }
      : { fs: new DurableNodeFS(workerData.dataDir), startParams: DURABLE_START_PARAMS }),
    extensions: { pg_trgm },
    // A dump (PGliteThread.dump) to start from instead of a new, empty cluster.
    ...(workerData.from ? { loadDataDir: new Blob([readFileSync(workerData.from)]) } : {}),
  });
  keepDrizzleTypes(db);
  await db.exec(GIN_PENDING_LIST);
  parentPort.postMessage({ ready: true });
} catch (err) {
  parentPort.postMessage({ ready: false, error: plainError(err) });
}

parentPort.on('message', async (m) => {
  try {
    let result = null;
    if (m.op === 'query') {
      const r = await query(m);
      result = { rows: r.rows, fields: r.fields, affectedRows: r.affectedRows };
    } else if (m.op === 'begin') result = await begin(m.tx, db);
    else if (m.op === 'end') result = await end(m.tx, m.commit);
    else if (m.op === 'dump') result = new Uint8Array(await (await db.dumpDataDir('none')).arrayBuffer());
    else if (m.op === 'close') await db.close();
    parentPort.postMessage({ id: m.id, result });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: plainError(err) });
  }
});
