/** The baseline peers' whole schema: one inbox table deduped on delivery_id. */
export const INBOX_DDL = `create table if not exists bench_inbox (
  id bigint generated always as identity primary key,
  delivery_id text not null unique,
  event_type text not null,
  payload jsonb not null,
  received_at timestamptz not null default now())`;

/** One delivery into the inbox, deduped on delivery_id: $1 delivery_id, $2 event type, $3 the body. */
export const INBOX_INSERT = `insert into bench_inbox (delivery_id, event_type, payload) values ($1, $2, $3::jsonb)
  on conflict (delivery_id) do nothing`;

/** Peers are configured by the harness through the environment (never through lib/env). */
export function peerConfig() {
  const port = Number(process.env.BENCH_PORT);
  const url = process.env.BENCH_DATABASE_URL ?? '';
  const secret = process.env.BENCH_SECRET ?? '';
  if (!port || !secret) throw new Error('BENCH_PORT and BENCH_SECRET are required');
  return { port, url, secret };
}
