import type { Context, Hono } from 'hono';
import { requireRole, type AuthEnv } from '../auth/middleware.ts';
import { createError } from '../core/errors.ts';
import type { UplinkSource } from '../core/uplink.ts';
import { ChirpstackStatusSchema, parseChirpstackUp, parseTtnUplink, type MessageResult } from './messages.ts';
import type { IntegrationMetrics } from './metrics.ts';
import type { UplinkReceiver, UplinkResult } from './receiver.ts';

export interface IntegrationRoutesDeps {
  receiver: UplinkReceiver;
  metrics: IntegrationMetrics;
  /** ISO 8601 in the service's zone. */
  formatTime: (ms: number) => string;
  now?: () => number;
  /** An uplink is data coming in, not a change by a person: keep it out of the audit log (it is counted in /metrics). */
  notAudited?: (request: Request) => void;
}

async function readJson(c: Context<AuthEnv>): Promise<unknown> {
  return c.req.json().catch(() => {
    throw createError('invalid_input', 'body: malformed JSON', { param: 'body' });
  });
}

/**
 * What the network server is told. 2xx for everything kansui has dealt with
 * (stored, duplicate, refused, ignored, unknown device) so it does not retry
 * what a retry cannot fix; 400 for a body that is not its documented shape;
 * a store failure throws and becomes 5xx, which TTN and ChirpStack retry.
 */
function answer(c: Context<AuthEnv>, r: UplinkResult) {
  if (r.outcome === 'invalid') throw createError('invalid_input', `body: ${r.detail ?? 'invalid'}`, { param: 'body' });
  return c.json({ outcome: r.outcome, ...(r.sensorId && { sensor_id: r.sensorId }), ...(r.reason && { reason: r.reason }), ...(r.detail && { detail: r.detail }) }, r.outcome === 'accepted' ? 201 : 200);
}

async function up(deps: IntegrationRoutesDeps, source: UplinkSource, parsed: MessageResult): Promise<UplinkResult> {
  return parsed.ok ? deps.receiver.receive(parsed.uplink) : deps.receiver.count(source, 'invalid', parsed.detail);
}

/**
 * Webhooks of the network servers (issue 11), authenticated with a kansui
 * API token of role technician (or admin) that the server sends as
 * `Authorization: Bearer …` (a TTN webhook's "Additional headers";
 * ChirpStack's HTTP integration "Headers").
 *
 * - `POST /api/integrations/ttn`: a TTN v3 webhook with "Uplink message" enabled.
 * - `POST /api/integrations/chirpstack?event=up`: ChirpStack v4 HTTP integration, JSON.
 *   Other events (join, ack, txack, log, location, integration) are accepted and ignored;
 *   `status` keeps `batteryLevel` as the sensor's battery.
 */
export function integrationRoutes(deps: IntegrationRoutesDeps): (app: Hono<AuthEnv>) => void {
  const now = deps.now ?? Date.now;
  return (app) => {
    /**
     * For the console: each integration's last message and counts by outcome
     * (a silent integration is noticed), and the battery each LoRaWAN sensor
     * last reported (also from refused frames and ChirpStack `status`).
     */
    app.get('/api/integrations', requireRole('staff', 'technician'), async (c) => {
      c.header('Cache-Control', 'no-store');
      return c.json({
        integrations: (await deps.metrics.snapshot()).map((i) => ({ source: i.source, last_uplink_at: i.lastAt === null ? null : deps.formatTime(i.lastAt), counts: i.counts })),
        batteries: Object.fromEntries([...deps.receiver.batteries].map(([id, b]) => [id, { ...(b.pct !== undefined && { battery_pct: b.pct }), ...(b.v !== undefined && { battery_v: b.v }), at: deps.formatTime(b.at) }])),
      });
    });
    app.post('/api/integrations/ttn', requireRole('technician'), async (c) => {
      deps.notAudited?.(c.req.raw);
      const json = await readJson(c);
      // TTN sends other message types to the same webhook when they are enabled: not uplinks.
      if (json && typeof json === 'object' && !('uplink_message' in json)) {
        return answer(c, deps.receiver.count('ttn-webhook', 'ignored', 'not an uplink message'));
      }
      return answer(c, await up(deps, 'ttn-webhook', parseTtnUplink(json, 'ttn-webhook', now())));
    });
    app.post('/api/integrations/chirpstack', requireRole('technician'), async (c) => {
      deps.notAudited?.(c.req.raw);
      const event = c.req.query('event');
      const json = await readJson(c);
      if (event === 'up') return answer(c, await up(deps, 'chirpstack-http', parseChirpstackUp(json, 'chirpstack-http', now())));
      if (event === 'status') {
        const s = ChirpstackStatusSchema.safeParse(json);
        if (!s.success) return answer(c, deps.receiver.count('chirpstack-http', 'invalid', s.error.issues[0]?.message ?? 'invalid'));
        const pct = s.data.batteryLevelUnavailable || s.data.externalPowerSource ? undefined : s.data.batteryLevel;
        const at = s.data.time ? Date.parse(s.data.time) : now();
        return answer(c, deps.receiver.status('chirpstack-http', s.data.deviceInfo.devEui, pct, Number.isFinite(at) ? at : now()));
      }
      return answer(c, deps.receiver.count('chirpstack-http', 'ignored', `event ${String(event ?? '(none)').slice(0, 40)}`));
    });
  };
}
