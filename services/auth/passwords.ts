import { randomBytes, scrypt, scryptSync, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { createHashQueue, HashBusyError, type HashSlotRequest } from './hash-queue.ts';

/**
 * Human passwords: scrypt with the OWASP Password Storage Cheat Sheet's
 * recommended parameters, N = 2^17 (cost), r = 8 (block size 1024 bytes),
 * p = 1, a 16-byte random salt and a 64-byte key. That takes about 0.65 s
 * and 128 MiB here, so hashing runs on libuv's thread pool (async) and
 * `maxmem` is raised above Node's 32 MiB default.
 *
 * Format (PHC-like, parameters kept with the hash so they can be raised
 * later without breaking old hashes): `$scrypt$ln=17,r=8,p=1$<salt>$<key>`,
 * base64 without padding.
 */
export const SCRYPT_PARAMS = { ln: 17, r: 8, p: 1 } as const;
const KEY_BYTES = 64;
const SALT_BYTES = 16;

function options(ln: number, r: number, p: number): ScryptOptions {
  const N = 2 ** ln;
  return { N, r, p, maxmem: 256 * N * r + 1024 * 1024 };
}

function encode(ln: number, r: number, p: number, salt: Buffer, key: Buffer): string {
  return `$scrypt$ln=${ln},r=${r},p=${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

function decode(stored: string): { ln: number; r: number; p: number; salt: Buffer; key: Buffer } | undefined {
  const m = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(stored);
  if (!m) return undefined;
  return { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]), salt: Buffer.from(m[4] as string, 'base64url'), key: Buffer.from(m[5] as string, 'base64url') };
}

/**
 * At most 2 hashes at once: scrypt runs on libuv's thread pool (4 threads by
 * default), which also serves the static files of the public map; a burst of
 * sign-ins must not take all of it during a storm. At most 64 wait; beyond
 * that a sign-in is refused as busy rather than queued without bound
 * (each waiting hash would later cost 128 MiB and 0.65 s). One queue for the
 * process, as there is one thread pool; fair per client address
 * (services/auth/hash-queue.ts).
 */
const passwordHashQueue = createHashQueue({ maxConcurrent: 2, maxWaiting: 64 });

export { HashBusyError, type HashSlotRequest };

/** Run `fn` (a hash) in the process's fair hash queue. */
export function withHashSlot<T>(fn: () => Promise<T>, request?: HashSlotRequest): Promise<T> {
  return passwordHashQueue.run(fn, request);
}

/** Running and waiting hashes right now. */
export const hashQueueStats = () => passwordHashQueue.stats();

function scryptAsync(password: string, salt: Buffer, opts: ScryptOptions, length: number, request?: HashSlotRequest): Promise<Buffer> {
  return withHashSlot(
    () => new Promise((resolve, reject) => scrypt(password.normalize('NFKC'), salt, length, opts, (err, key) => (err ? reject(err) : resolve(key)))),
    request,
  );
}

export async function hashPassword(password: string): Promise<string> {
  const { ln, r, p } = SCRYPT_PARAMS;
  const salt = randomBytes(SALT_BYTES);
  return encode(ln, r, p, salt, await scryptAsync(password, salt, options(ln, r, p), KEY_BYTES));
}

/** For the CLI, which has nothing else to do meanwhile. */
export function hashPasswordSync(password: string): string {
  const { ln, r, p } = SCRYPT_PARAMS;
  const salt = randomBytes(SALT_BYTES);
  return encode(ln, r, p, salt, scryptSync(password.normalize('NFKC'), salt, KEY_BYTES, options(ln, r, p)));
}

/**
 * What an unknown user's password is checked against, so an unknown username
 * costs the same scrypt work as a wrong password (no user enumeration by
 * timing): a random salt and key of the stored format's sizes. It needs no
 * hashing of its own (nothing can match it), so it cannot fail or wait.
 */
const dummyHash = encode(SCRYPT_PARAMS.ln, SCRYPT_PARAMS.r, SCRYPT_PARAMS.p, randomBytes(SALT_BYTES), randomBytes(KEY_BYTES));

/**
 * Constant-time check of `password` against a stored hash; `null` (no user /
 * no password) always fails after the same work. `request` says whose hash
 * it is, for the fair queue (HashBusyError when refused).
 */
export async function verifyPassword(password: string, stored: string | null, request?: HashSlotRequest): Promise<boolean> {
  const parsed = decode(stored ?? '') ?? (decode(dummyHash) as NonNullable<ReturnType<typeof decode>>);
  if (parsed.ln > 20) return false;
  const key = await scryptAsync(password, parsed.salt, options(parsed.ln, parsed.r, parsed.p), parsed.key.length, request);
  return stored !== null && decode(stored) !== undefined && timingSafeEqual(key, parsed.key);
}
