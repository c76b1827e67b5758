import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const VERSION = 'v1';

/**
 * Seals source secrets for the database with AES-256-GCM: a random 96-bit IV per secret, the
 * source slug as associated data (a ciphertext copied onto another source does not open), stored as
 * "v1.<iv>.<tag>.<ciphertext>" in base64url.
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('SecretBox needs a 32-byte key');
  }

  seal(slug: string, plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(slug, 'utf8'));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), data]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  /** Throws when the key is wrong or the ciphertext was altered or moved to another source. */
  open(slug: string, sealed: string): string {
    const [version, iv, tag, data] = sealed.split('.');
    if (version !== VERSION || !iv || !tag || data === undefined) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(slug, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  }
}

/** SECRETS_ENCRYPTION_KEY as 64 hex characters or base64 of 32 bytes (validated in lib/env.ts). */
export function parseKey(value: string): Buffer {
  return /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
}

/**
 * The key for sealing source secrets: SECRETS_ENCRYPTION_KEY, or in PGlite demo mode a key generated
 * once into `<data dir>/secrets.key` (mode 0600, beside the database it protects). With Postgres and
 * no key there is none: sources keep working from the environment, and storing a secret is refused.
 */
export function loadKey(opts: {
  configured?: string;
  databaseUrl?: string;
  pgliteDir: string;
}): Buffer | null {
  if (opts.configured) return parseKey(opts.configured);
  if (opts.databaseUrl || opts.pgliteDir.startsWith('memory://')) return null;
  const file = path.join(path.dirname(path.resolve(opts.pgliteDir)), 'secrets.key');
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    // 'wx': two processes starting at once must not overwrite each other's key.
    try {
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  chmodSync(file, 0o600);
  return parseKey(readFileSync(file, 'utf8').trim());
}
