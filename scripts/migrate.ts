import { openDb } from '@/db/client';
import { env } from '@/lib/env';

const handle = await openDb({ url: env.DATABASE_URL, pgliteDir: env.PGLITE_DIR });
console.log(`migrations applied (${handle.kind}${handle.kind === 'pglite' ? ` at ${env.PGLITE_DIR}` : ''})`);
await handle.close();
