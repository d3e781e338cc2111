import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DomainError, type DomainErrorCode } from '../core/errors.ts';

const STATUS: Record<DomainErrorCode, ContentfulStatusCode> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
};

/** The one JSON error shape of the API: `{"error": {"code", "message", "details"?}}`. */
export function errorBody(code: string, message: string, details?: unknown) {
  return { error: { code, message, ...(details !== undefined && { details }) } };
}

/** app.onError: DomainError → mapped status; HTTPException → its status; anything else → 500 without internals. */
export function handleError(err: Error, c: Context, log?: (err: Error) => void): Response {
  if (err instanceof DomainError) return c.json(errorBody(err.code, err.message, err.details), STATUS[err.code]);
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    return c.json(errorBody(status === 413 ? 'payload_too_large' : 'http_error', err.message || 'error'), status);
  }
  log?.(err);
  return c.json(errorBody('internal', 'internal error'), 500);
}
