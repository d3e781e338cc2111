import { z } from 'zod';
import { createError } from './errors.ts';
import { parseTimeParam, TIME_PARAM_MAX_MS, TIME_PARAM_MIN_MS } from './time.ts';

/**
 * Validate `value` with a zod schema; on failure throw `invalid_input`
 * (HTTP 400) naming the first bad parameter or field, e.g.
 * `from: expected ISO 8601 with offset or epoch milliseconds`, with
 * `details.param` set to it. `whole` names the value when the problem is
 * not in one field (a missing body, an array where an object belongs).
 *
 * @example const q = validate(ReadingsQuery, c.req.query(), 'query');
 */
export function validate<S extends z.ZodType>(schema: S, value: unknown, whole = 'body'): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  // An unrecognized key has an empty path and names itself in `keys`.
  const param = issue?.path.join('.') || (issue as { keys?: string[] } | undefined)?.keys?.join(',') || whole;
  throw createError('invalid_input', `${param}: ${issue?.message ?? 'invalid'}`, { param });
}

const TIME_RANGE = `${new Date(TIME_PARAM_MIN_MS).toISOString()} to ${new Date(TIME_PARAM_MAX_MS).toISOString()}`;

/**
 * A time in a query string: ISO 8601 with offset, or epoch milliseconds
 * (docs/contract.md), between TIME_PARAM_MIN_MS and TIME_PARAM_MAX_MS; any
 * other value is a 400 naming the parameter (issue 10 #12), never a 500.
 */
export const TimeParamSchema = z.string().transform((v, ctx) => {
  const ms = parseTimeParam(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected ISO 8601 with offset or epoch milliseconds, ${TIME_RANGE}` });
    return z.NEVER;
  }
  return ms;
});
