import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { SENSOR_PASSWORD_BYTES } from '../core/credentials.ts';

/** A fresh sensor password: 192 random bits, base64url (no characters a shell or URL mangles). */
export function generateSensorPassword(): string {
  return randomBytes(SENSOR_PASSWORD_BYTES).toString('base64url');
}

/** Fast hash for high-entropy generated secrets (see services/core/credentials.ts for why not scrypt). */
export function hashSecret(secret: string): string {
  return 'sha256:' + createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented secret with its stored hash. */
export function verifySecret(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret));
  const b = Buffer.from(storedHash);
  return a.length === b.length && timingSafeEqual(a, b);
}
