import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvCell, exportResponse } from './stream-export';

test('formula-looking cells are neutralised and quoting is RFC 4180', () => {
  assert.equal(csvCell('=cmd|"/c calc"!A1'), `"'=cmd|""/c calc""!A1"`);
  for (const lead of ['=', '+', '-', '@', '\t', '\r'])
    assert.ok(csvCell(`${lead}1`).replace(/^"/, '').startsWith("'"));
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('line\nbreak'), '"line\nbreak"');
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(new Date('2026-01-01T00:00:00Z')), '2026-01-01T00:00:00.000Z');
  assert.equal(csvCell({ a: 1 }), '"{""a"":1}"');
  assert.equal(csvCell('plain'), 'plain');
  assert.equal(csvCell(-120), '-120', 'a negative number stays a number');
});

test("a query that fails at once is the route's error, not a 200 cut short", async () => {
  // biome-ignore lint/correctness/useYield: the query fails before its first row
  async function* failing(): AsyncGenerator<{ id: number }> {
    throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  }
  await assert.rejects(exportResponse(failing(), ['id'], 'csv', 'audit'), /ECONNREFUSED/);
});

test('the stream pulls rows lazily and writes CSV or NDJSON', async () => {
  let pulled = 0;
  async function* rows() {
    for (let i = 0; i < 3; i++) {
      pulled++;
      yield { id: i, actor: i === 1 ? '=evil' : `u${i}@x.test` };
    }
  }
  const res = await exportResponse(rows(), ['id', 'actor'], 'csv', 'audit');
  assert.equal(pulled, 1, 'the first row before the answer, the rest as the client reads');
  assert.equal(await res.text(), "id,actor\r\n0,u0@x.test\r\n1,'=evil\r\n2,u2@x.test\r\n");
  assert.match(res.headers.get('content-disposition')!, /audit\.csv/);
  const nd = await (await exportResponse(rows(), ['id'], 'ndjson', 'audit')).text();
  assert.equal(nd, '{"id":0}\n{"id":1}\n{"id":2}\n');
});
