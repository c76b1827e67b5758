import { and, asc, eq, sql } from 'drizzle-orm';
import { type Queryable, rowsOf } from '../client';
import { type SignatureCause, type SourceRow, sourceSecrets, sources } from '../schema';
import { type Actor, insertAudit } from './audit';
import type { SealedSecret } from './sources';

/** A stored secret as the receiver and the forensics need it (sealed: opened in lib/sources). */
export type StoredSecret = {
  id: number;
  source: string;
  label: string | null;
  last4: string;
  ciphertext: string;
  expiresAt: Date | null;
};

/** A source's row (null: none stored, e.g. a default source never rotated) and all its secrets. */
export type StoredSourceState = { row: SourceRow | null; secrets: StoredSecret[] };

const STORED = {
  id: sourceSecrets.id,
  source: sourceSecrets.source,
  label: sourceSecrets.label,
  last4: sourceSecrets.last4,
  ciphertext: sourceSecrets.ciphertext,
  expiresAt: sourceSecrets.expiresAt,
};

/** Every secret of the source, retired and expired ones included (forensics name them). */
export async function getSourceState(db: Queryable, slug: string): Promise<StoredSourceState> {
  const [row] = await db.select().from(sources).where(eq(sources.slug, slug));
  if (!row) return { row: null, secrets: [] };
  const secrets = await db
    .select(STORED)
    .from(sourceSecrets)
    .where(eq(sourceSecrets.source, slug))
    .orderBy(asc(sourceSecrets.id));
  return { row, secrets };
}

/** The newest `limit` secrets of every source, for matching a refused signature against them. */
export async function listAllSecrets(db: Queryable, limit: number): Promise<StoredSecret[]> {
  return db.select(STORED).from(sourceSecrets).orderBy(sql`${sourceSecrets.id} desc`).limit(limit);
}

const SIGNED_OUTCOMES = sql`('accepted', 'duplicate', 'ignored', 'malformed')`;

/**
 * Creates the row of a default source (environment-configured, so it had none) the first time one of
 * its secrets is stored. The environment's secrets are stored with it (`seeds`) so that they can be
 * given an overlap and retired like any other; a single seed inherits the time of the source's last
 * signed delivery, since it was the only secret that could have matched it.
 */
async function ensureSource(tx: Queryable, slug: string, provider: string, seeds: SealedSecret[]) {
  await tx.insert(sources).values({ slug, provider }).onConflictDoNothing();
  if (seeds.length === 0) return;
  const lastMatched =
    seeds.length === 1
      ? sql`(select received_at from receipts where source = ${slug} and secret_id is null
              and outcome in ${SIGNED_OUTCOMES} order by id desc limit 1)`
      : sql`null`;
  await tx
    .insert(sourceSecrets)
    .values(seeds.map((s) => ({ ...s, source: slug, lastMatchedAt: lastMatched })));
}

/**
 * Step 1 of a provider rotation: marks the source as rotating (so replicas wait, not refuse). False
 * when another rotation of it is under way (started less than `staleSeconds` ago): two at once could
 * store the provider's secrets in the wrong order and leave the one it signs with expiring.
 */
export async function beginRotation(
  db: Queryable,
  input: { slug: string; provider: string; seeds: SealedSecret[]; webhookId: number; staleSeconds: number },
  who: Actor,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    await ensureSource(tx, input.slug, input.provider, input.seeds);
    const began = await tx
      .update(sources)
      .set({ rotatingSince: sql`now()` })
      .where(
        sql`${sources.slug} = ${input.slug} and (${sources.rotatingSince} is null
          or ${sources.rotatingSince} < now() - make_interval(secs => ${input.staleSeconds}::int))`,
      )
      .returning({ slug: sources.slug });
    if (began.length === 0) return false;
    await insertAudit(tx, who, 'secret_rotate_start', input.slug, {
      webhook_id: input.webhookId,
      seeded: input.seeds.length,
    });
    return true;
  });
}

/**
 * A failed provider call ends the rotation with nothing stored but the audit row, which says whether
 * the provider may have regenerated the secret all the same (no answer, a 5xx, an unreadable 2xx).
 */
export async function abortRotation(
  db: Queryable,
  slug: string,
  who: Actor,
  failure: { code: string; message: string; providerMayHaveChanged: boolean },
) {
  await db.transaction(async (tx) => {
    await tx.update(sources).set({ rotatingSince: null }).where(eq(sources.slug, slug));
    await insertAudit(
      tx,
      who,
      'secret_rotate',
      slug,
      { error: failure.message, provider_may_have_changed: failure.providerMayHaveChanged },
      { result: 'refused', code: failure.code },
    );
  });
}

/**
 * Stores a new secret and gives every other active one `overlapSeconds` more (never extending an
 * earlier expiry); ends a rotation in progress. One transaction: replicas see old and new together.
 */
export async function addSecret(
  db: Queryable,
  input: {
    slug: string;
    provider: string;
    secret: SealedSecret;
    seeds: SealedSecret[];
    overlapSeconds: number;
    action: 'secret_add' | 'secret_rotate';
    detail?: Record<string, unknown>;
  },
  who: Actor,
): Promise<{ id: number; overlapping: number[] }> {
  return db.transaction(async (tx) => {
    await ensureSource(tx, input.slug, input.provider, input.seeds);
    const until = sql`now() + make_interval(secs => ${input.overlapSeconds}::int)`;
    const overlapping = await tx
      .update(sourceSecrets)
      .set({ expiresAt: until })
      .where(
        sql`${sourceSecrets.source} = ${input.slug}
          and (${sourceSecrets.expiresAt} is null or ${sourceSecrets.expiresAt} > ${until})`,
      )
      .returning({ id: sourceSecrets.id });
    const [row] = await tx
      .insert(sourceSecrets)
      .values({ ...input.secret, source: input.slug })
      .returning({ id: sourceSecrets.id });
    await tx
      .update(sources)
      .set({ rotatingSince: null, updatedAt: sql`now()` })
      .where(eq(sources.slug, input.slug));
    const ids = overlapping.map((o) => o.id);
    await insertAudit(tx, who, input.action, input.slug, {
      ...input.detail,
      secret_id: row!.id,
      last4: input.secret.last4,
      overlap_seconds: input.overlapSeconds,
      overlapping: ids,
    });
    return { id: row!.id, overlapping: ids };
  });
}

export type RetireResult = 'retired' | 'not_found' | 'already_inactive' | 'last_active';

/** Ends a secret now; refused for the source's last active secret (every delivery would be refused). */
export async function retireSecret(
  db: Queryable,
  slug: string,
  id: number,
  who: Actor,
): Promise<RetireResult> {
  return db.transaction(async (tx) => {
    // Locks the source's secrets: two concurrent retirements cannot both leave none active.
    const rows = await tx
      .select({
        id: sourceSecrets.id,
        active: sql<boolean>`${sourceSecrets.expiresAt} is null or ${sourceSecrets.expiresAt} > now()`,
        lasting: sql<boolean>`${sourceSecrets.expiresAt} is null`,
      })
      .from(sourceSecrets)
      .where(eq(sourceSecrets.source, slug))
      .for('update');
    const target = rows.find((r) => r.id === id);
    if (!target) return 'not_found';
    if (!target.active) return 'already_inactive';
    const others = rows.filter((r) => r.active && r.id !== id);
    if (others.length === 0) return 'last_active';
    await tx
      .update(sourceSecrets)
      .set({ expiresAt: sql`now()` })
      .where(and(eq(sourceSecrets.id, id), eq(sourceSecrets.source, slug)));
    // Retiring the one secret without an expiry (the new one of a rotation, undone) would leave only
    // secrets in their overlap: every delivery refused when it ends. The newest of them is kept.
    let kept: number | null = null;
    if (!others.some((r) => r.lasting)) {
      kept = Math.max(...others.map((r) => r.id));
      await tx.update(sourceSecrets).set({ expiresAt: null }).where(eq(sourceSecrets.id, kept));
    }
    await insertAudit(tx, who, 'secret_retire', slug, {
      secret_id: id,
      ...(kept !== null ? { kept_without_expiry: kept } : {}),
    });
    return 'retired';
  });
}

/** Records when secrets last matched (batched by the receiver; never moves a time backwards). */
export async function touchSecrets(db: Queryable, seen: Array<{ id: number; at: Date }>) {
  if (seen.length === 0) return;
  await db.execute(sql`
    update source_secrets as s
    set last_matched_at = greatest(coalesce(s.last_matched_at, v.at), v.at)
    from json_to_recordset(${JSON.stringify(seen)}::json) as v(id bigint, at timestamptz)
    where s.id = v.id`);
}

/** Of the source's last `window` signed deliveries, how many each secret matched (null: environment). */
export async function secretShares(
  db: Queryable,
  slug: string,
  window: number,
): Promise<{ total: number; bySecret: Map<number | null, number> }> {
  const rows = rowsOf<{ secret_id: string | number | null; n: string | number }>(
    await db.execute(sql`
      select secret_id, count(*) as n from (
        select secret_id from receipts
        where source = ${slug} and outcome in ${SIGNED_OUTCOMES}
        order by id desc limit ${window}
      ) last group by secret_id`),
  );
  const bySecret = new Map<number | null, number>();
  let total = 0;
  for (const r of rows) {
    const n = Number(r.n);
    total += n;
    bySecret.set(r.secret_id === null ? null : Number(r.secret_id), n);
  }
  return { total, bySecret };
}

/**
 * Refused deliveries since `since` by the cause their forensics found (`not_analysed` when the
 * per-minute cap or the queue skipped them; null cause: refused for another reason than the signature).
 */
export async function rejectionCauseCounts(
  db: Queryable,
  filter: { source?: string; since: Date; until?: Date },
): Promise<Array<{ cause: SignatureCause; count: number }>> {
  const rows = rowsOf<{ cause: SignatureCause; n: string | number }>(
    await db.execute(sql`
      select forensics->>'cause' as cause, count(*) as n from receipts
      where received_at >= ${filter.since.toISOString()}::timestamptz and outcome = 'rejected' and forensics is not null
        ${filter.until === undefined ? sql`` : sql`and received_at < ${filter.until.toISOString()}::timestamptz`}
        ${filter.source === undefined ? sql`` : sql`and source = ${filter.source}`}
      group by 1 order by 2 desc, 1`),
  );
  return rows.map((r) => ({ cause: r.cause, count: Number(r.n) }));
}
