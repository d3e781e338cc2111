import { randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import type { AuditSink } from '../core/audit.ts';
import type { Principal } from '../core/auth.ts';
import { ClosureInputSchema, closureToJson, type Closure, type ClosureInput, type ClosureRepository } from '../core/closure.ts';
import { createError } from '../core/errors.ts';
import type { SensorRegistry } from '../core/ports.ts';
import { formatIso } from '../core/time.ts';
import { validate } from '../core/validate.ts';
import { requireRole, type AuthEnv } from '../auth/middleware.ts';


export interface ClosuresDeps {
  repo: ClosureRepository;
  registry: SensorRegistry;
  /** SSE hub: a `closure` event on every change, so maps and the staff board update without reload. */
  publish: (event: string, data: unknown) => void;
  audit?: AuditSink;
  /** Client address for the audit entry. */
  addressOf?: (c: import('hono').Context<AuthEnv>) => string;
  timeZone: string;
  now?: () => number;
}

/**
 * Road closures set by city staff (issue 13): `POST /api/closures`,
 * `DELETE /api/closures/{id}` (staff), `GET /api/closures` (anyone: the
 * closures in force are public facts). One closure in force per sensor: a
 * second POST for the same sensor is a 409, so the map never shows two.
 * Each change is audited in words and published on the event stream.
 */
export function createClosures(deps: ClosuresDeps) {
  const now = deps.now ?? Date.now;
  const fmt = (ms: number) => formatIso(ms, deps.timeZone);
  /** Open closures by sensor; the repository is the truth, this saves a query per feature. */
  const bySensor = new Map<string, Closure>();
  /** Drawn road segments in force, by closure id. */
  const segments = new Map<string, Closure>();
  /** Bumped on every change, so the cached /api/sensors body knows to rebuild. */
  let version = 0;
  function load(): void {
    bySensor.clear();
    segments.clear();
    for (const c of deps.repo.open()) {
      if (c.sensorId !== undefined) bySensor.set(c.sensorId, c);
      if (c.segment) segments.set(c.id, c);
    }
  }
  load();

  function sensorName(id: string | undefined): string {
    return id === undefined ? '' : (deps.registry.get(id)?.name ?? id);
  }
  /** What the closure is called in words: the sensor's place, or the segment's name. */
  const placeOf = (c: Closure) => c.segment?.name ?? sensorName(c.sensorId);

  function create(input: ClosureInput, by: string): Closure {
    if ('segment' in input) {
      const t = now();
      const closure: Closure = { id: `cl_${t.toString(36)}${randomBytes(4).toString('hex')}`, sensorId: undefined, segment: input.segment, reason: input.reason, since: t, by, liftedAt: undefined, liftedBy: undefined };
      deps.repo.insert(closure);
      segments.set(closure.id, closure);
      version++;
      deps.publish('closure', { event: 'closed', sensor_id: null, closure: closureToJson(closure, fmt, { includeBy: false }) });
      return closure;
    }
    const sensor = deps.registry.get(input.sensor) ?? (deps.registry.refresh() ? deps.registry.get(input.sensor) : undefined);
    if (!sensor) throw createError('not_found', `unknown sensor ${input.sensor}`);
    const existing = bySensor.get(sensor.id);
    if (existing) throw createError('conflict', `the road at ${sensor.id} is already closed (${existing.id}); lift it first`);
    const t = now();
    const closure: Closure = { id: `cl_${t.toString(36)}${randomBytes(4).toString('hex')}`, sensorId: sensor.id, segment: undefined, reason: input.reason, since: t, by, liftedAt: undefined, liftedBy: undefined };
    deps.repo.insert(closure);
    bySensor.set(sensor.id, closure);
    version++;
    deps.publish('closure', { event: 'closed', sensor_id: sensor.id, closure: closureToJson(closure, fmt, { includeBy: false }) });
    return closure;
  }

  function lift(id: string, by: string): Closure {
    const c = deps.repo.get(id);
    if (!c) throw createError('not_found', `unknown closure ${id}`);
    const t = now();
    if (!deps.repo.lift(id, by, t)) throw createError('conflict', `closure ${id} was already lifted`);
    if (c.sensorId !== undefined && bySensor.get(c.sensorId)?.id === id) bySensor.delete(c.sensorId);
    segments.delete(id);
    version++;
    const lifted = { ...c, liftedAt: t, liftedBy: by };
    deps.publish('closure', { event: 'lifted', sensor_id: c.sensorId ?? null, id, closure: null });
    return lifted;
  }

  function routes(app: Hono<AuthEnv>): void {
    app.get('/api/closures', (c) => {
      const staff = c.get('principal') !== undefined;
      c.header('Cache-Control', 'no-cache');
      return c.json({ closures: deps.repo.open().map((x) => ({ ...closureToJson(x, fmt, { includeBy: staff }), sensor_name: x.sensorId === undefined ? null : sensorName(x.sensorId) })) });
    });
    app.post('/api/closures', requireRole('staff'), async (c) => {
      const raw = await c.req.json().catch(() => {
        throw createError('invalid_input', 'body: malformed JSON', { param: 'body' });
      });
      const body = validate(ClosureInputSchema, raw);
      const principal = c.get('principal') as Principal;
      const closure = create(body, principal.username);
      deps.audit?.(c.req.raw, {
        actor: principal,
        action: 'closure.create',
        targetType: 'closure',
        targetId: closure.id,
        after: { sensor_id: closure.sensorId ?? null, sensor_name: placeOf(closure), reason: closure.reason, ...(closure.segment && { segment: closure.segment }) },
        address: deps.addressOf?.(c) ?? null,
      });
      return c.json(closureToJson(closure, fmt, { includeBy: true }), 201);
    });
    app.delete('/api/closures/:id', requireRole('staff'), (c) => {
      const principal = c.get('principal') as Principal;
      const closure = lift(c.req.param('id'), principal.username);
      deps.audit?.(c.req.raw, {
        actor: principal,
        action: 'closure.lift',
        targetType: 'closure',
        targetId: closure.id,
        before: { sensor_id: closure.sensorId ?? null, sensor_name: placeOf(closure), reason: closure.reason },
        after: { sensor_id: closure.sensorId ?? null, sensor_name: placeOf(closure) },
        address: deps.addressOf?.(c) ?? null,
      });
      return c.body(null, 204);
    });
  }

  return {
    create,
    lift,
    /** The closure in force at a sensor, if any. */
    openFor: (sensorId: string): Closure | undefined => bySensor.get(sensorId),
    /** Every closure in force: sensors' roads and drawn segments. */
    open: (): Closure[] => [...bySensor.values(), ...segments.values()],
    /** Drawn road segments in force. */
    segments: (): Closure[] => [...segments.values()],
    overlapping: (from: number, to: number) => deps.repo.overlapping(from, to),
    /** Changes with every closure set or lifted (cache key). */
    version: () => version,
    /** Read the closures in force again: another process (the core, issue 15) changed them. */
    reload(): void {
      const before = [...bySensor.values(), ...segments.values()].map((c) => c.id).sort().join();
      load();
      // Only a real change rebuilds the cached /api/sensors body (the core announces every write, most change no closure).
      if ([...bySensor.values(), ...segments.values()].map((c) => c.id).sort().join() !== before) version++;
    },
    routes,
  };
}
export type Closures = ReturnType<typeof createClosures>;
