import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** Where the generated pair lives, next to kansui.db (back it up with it: a new pair orphans every subscription). */
export const VAPID_FILE = 'vapid.json';

const VapidFileSchema = z.object({
  publicKey: z.string().regex(/^[A-Za-z0-9_-]{80,100}$/, 'publicKey: base64url P-256 point'),
  privateKey: z.string().regex(/^[A-Za-z0-9_-]{40,50}$/, 'privateKey: base64url P-256 scalar'),
});
export type VapidKeys = z.infer<typeof VapidFileSchema>;

/**
 * The Web Push key pair when none is configured (issue 12: notifications work
 * out of the box): read from DATA_DIR/vapid.json, or generated there on first
 * start with web-push's own generateVAPIDKeys (P-256, RFC 8292) and written
 * with mode 0600, since the private key signs every push. Subscriptions are
 * bound to the public key, so the same file must survive restarts and
 * upgrades; it is never regenerated while it exists.
 */
export async function loadOrCreateVapidKeys(dataDir: string): Promise<{ keys: VapidKeys; created: boolean }> {
  const path = join(dataDir, VAPID_FILE);
  const existing = readVapidFile(path);
  if (existing) return { keys: existing, created: false };
  const { default: webpush } = await import('web-push');
  const keys = webpush.generateVAPIDKeys();
  mkdirSync(dataDir, { recursive: true });
  // Written whole under a private name, then linked into place: link(2) fails if the file exists, so of several
  // processes starting at once on a fresh DATA_DIR (the roles of issue 15) one pair wins and every process reads it,
  // and nobody ever reads a half-written file.
  const temp = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`;
  writeFileSync(temp, JSON.stringify(keys, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(temp, 0o600); // the umask may have narrowed the mode; never widened, but say it exactly
  try {
    linkSync(temp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const theirs = readVapidFile(path);
    if (!theirs) throw err;
    return { keys: theirs, created: false };
  } finally {
    unlinkSync(temp);
  }
  return { keys, created: true };
}

function readVapidFile(path: string): VapidKeys | undefined {
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text === undefined) return undefined;
  const parsed = VapidFileSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${path}: ${parsed.error.issues.map((i) => i.message).join('; ')} (delete it to generate a new pair; push subscriptions made with the old one stop working)`);
  return parsed.data;
}
