import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { z } from 'zod';
import { createError } from '../core/errors.ts';
import { validate } from '../core/validate.ts';

export { validate };

/** Read and validate a JSON body; bad JSON or a schema failure → 400 naming the field. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw createError('invalid_input', 'body: expected JSON');
  }
  return validate(schema, body);
}

/**
 * The client's address: the TCP peer, or with TRUST_PROXY the address the
 * proxy appended last to X-Forwarded-For (the one hop we trust; earlier
 * entries are whatever the client claimed).
 */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const xff = c.req.header('X-Forwarded-For')?.split(',').map((s) => s.trim()).filter(Boolean);
    if (xff?.length) return xff[xff.length - 1] as string;
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // app.request() in tests has no socket
  }
}
