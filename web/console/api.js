// JSON over fetch, same-origin cookies. Every write sends JSON (the server
// refuses anything else, services/auth/request-guard.ts); the browser adds
// the Origin header the server checks.

/** The signed-in person (GET /api/session). @typedef {{ username: string, role: 'admin' | 'technician' | 'staff' }} Session */

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** @type {(err: ApiError) => void} */
let onUnauthorized = () => {};
/** @param {(err: ApiError) => void} fn */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/**
 * @param {'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'} method
 * @param {string} path
 * @param {unknown} [body] sent as JSON
 * @returns {Promise<any>} the parsed JSON (null for 204)
 */
export async function api(method, path, body) {
  /** @type {RequestInit & { headers: Record<string, string> }} */
  const options = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  const res = await fetch(path, options);
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = new ApiError(res.status, data?.error?.code ?? 'http_error', data?.error?.message ?? `HTTP ${res.status}`);
    if (res.status === 401 && path !== '/api/session') onUnauthorized(err);
    throw err;
  }
  return data;
}

/**
 * What a failed call says, for a toast or an error line.
 * @param {unknown} err
 */
export function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The HTTP status of a failed API call, if it was one.
 * @param {unknown} err
 * @returns {number | undefined}
 */
export function statusOf(err) {
  return err instanceof ApiError ? err.status : undefined;
}
