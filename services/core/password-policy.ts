import { z } from 'zod';

/**
 * Human passwords. NIST SP 800-63B-4 §3.1.1.2: at least 15 characters when
 * the password is the only factor, accept at least 64, no composition rules.
 * The upper bound keeps a hostile body from feeding megabytes to scrypt.
 */
export const PASSWORD_MIN_LENGTH = 15;
export const PASSWORD_MAX_LENGTH = 256;

export const NewPasswordSchema = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `password: at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH, `password: at most ${PASSWORD_MAX_LENGTH} characters`);

/** A password presented at sign-in is only bounded, never judged (the hash comparison decides). */
export const PresentedPasswordSchema = z.string().min(1).max(PASSWORD_MAX_LENGTH);
