/** Codes the API maps to HTTP statuses (services/api/errors.ts). */
export type DomainErrorCode =
  | 'not_found'
  | 'invalid_input'
  | 'conflict'
  | 'unauthorized'
  | 'forbidden'
  | 'unavailable';

/** An error the domain expects and names; anything else is a bug. */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** @example throw createError('not_found', `unknown sensor ${id}`) */
export function createError(code: DomainErrorCode, message: string, details?: unknown): DomainError {
  return new DomainError(code, message, details);
}
