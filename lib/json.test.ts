import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { isLosslessNumber, isSafeNumber, LosslessNumber, parse } from 'lossless-json';
import { parseExactJson, parseJsonLossless } from './json';

/** What the fast path must agree with: the lossless parse on every text. */
const lossless = (text: string) =>
  parse(text, null, (v) => (isSafeNumber(v) ? Number(v) : new LosslessNumber(v)));
/** A decimal's value as `digits e exponent`, so 3e71, 3e+71 and 30e70 read the same. */
function decimal(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  assert.ok(m, `not a JSON number: ${text}`);
  let digits = `${m[2]}${m[3] ?? ''}`.replace(/^0+/, '');
  let exp = Number(m[4] ?? 0) - (m[3]?.length ?? 0);
  if (digits === '') return '0';
  while (digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    exp++;
  }
  return `${m[1]}${digits}e${exp}`;
}
/**
 * Numbers as the decimal value that reaches the database: a double by its shortest text (what
 * JSON.stringify writes), a LosslessNumber by its own. Equal means nothing was rounded.
 */
const comparable = (v: unknown): unknown =>
  isLosslessNumber(v)
    ? decimal((v as LosslessNumber).toString())
    : typeof v === 'number'
      ? decimal(String(v).replace('e+', 'e'))
      : Array.isArray(v)
        ? v.map(comparable)
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, comparable(x)]))
          : v;

const digits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
/** JSON number texts around what a double holds: up to 20 digits in each part, exponents of 1–3 digits. */
const numberText = fc
  .tuple(
    fc.constantFrom('', '-'),
    fc.oneof(
      fc.constant('0'),
      digits(1, 20).map((d) => d.replace(/^0+(?=\d)/, '')),
    ),
    fc.option(digits(1, 20), { nil: undefined }),
    fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), digits(1, 3)), {
      nil: undefined,
    }),
  )
  .map(([sign, int, frac, exp]) => `${sign}${int}${frac ? `.${frac}` : ''}${exp ? exp.join('') : ''}`);
const ws = fc.constantFrom('', ' ', '\n', '\t ', '\r\n  ');
/**
 * Strings that look like numbers: UUIDs (hex with `e` and digits), digit runs, number texts. Object
 * keys are drawn from these too, unique per object (the lossless parse refuses a repeated key).
 */
const stringText = fc
  .oneof(fc.constant(randomUUID()), fc.uuid(), digits(14, 20), numberText, fc.string({ maxLength: 20 }))
  .map((s) => JSON.stringify(s));

const doc: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    numberText,
    stringText,
    fc
      .tuple(ws, fc.array(tie('value'), { maxLength: 4 }), ws)
      .map(([a, xs, b]) => `[${a}${xs.join(`${a},${b}`)}${b}]`),
    fc
      .tuple(
        ws,
        fc.uniqueArray(fc.tuple(stringText, tie('value')), { maxLength: 4, selector: ([k]) => k }),
        ws,
      )
      .map(([a, kv, b]) => `{${a}${kv.map(([k, v]) => `${k}${a}:${b}${v}`).join(',')}${b}}`),
  ),
})).value;

test('the fast parse gives what the lossless one gives, on any text of numbers and look-alikes', () => {
  fc.assert(
    fc.property(ws, doc, ws, (a, text, b) => {
      const t = `${a}${text}${b}`;
      assert.deepEqual(comparable(parseJsonLossless(t)), comparable(lossless(t)));
    }),
    { numRuns: 3000 },
  );
});

test('numbers a double cannot hold keep their digits; UUIDs and digits in strings change nothing', () => {
  const body = (delivery: string, data: string) =>
    `{"event":"contact.updated","delivery_id":"${delivery}","data":${data}}`;
  // An `e` and three digits in a UUID is not an exponent.
  const uuid = '3f6c2a9e-0b1d-4c7e-9a55-2e8f41d0c7b3';
  assert.deepEqual(parseJsonLossless(body(uuid, '{"id":77,"phone":"+9715000000001234567"}')), {
    event: 'contact.updated',
    delivery_id: uuid,
    data: { id: 77, phone: '+9715000000001234567' },
  });
  // 17 significant digits with no 16 in a row: a double rounds it (12345678.12345679).
  const exact = parseJsonLossless(body(uuid, '{"amount":12345678.123456789}')) as {
    data: { amount: unknown };
  };
  assert.ok(isLosslessNumber(exact.data.amount));
  assert.equal(String(exact.data.amount), '12345678.123456789');
  for (const n of ['9007199254740993', '1e400', '-1e-400', '0.12345678901234567']) {
    const v = (parseJsonLossless(`[1, ${n}]`) as unknown[])[1];
    assert.ok(isLosslessNumber(v), n);
    assert.equal(String(v), n);
  }
  assert.equal(parseJsonLossless('  9007199254740993 ')?.toString(), '9007199254740993');
  // The handlers' parse: big integers as bigint, the rest as doubles.
  assert.deepEqual(parseExactJson(`{"id":9007199254740993,"at":"${uuid}","x":1.5}`), {
    id: 9007199254740993n,
    at: uuid,
    x: 1.5,
  });
});
