import type { Context } from 'hono';
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
