import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Hono } from 'hono';
import type { AuthEnv } from '../auth/middleware.ts';
import type { AlertSeverity } from '../core/alerts/policy.ts';
import {
  buildAmbiguous,
  buildHelp,
  buildLangChanged,
  buildList,
  buildSearchResult,
  buildSubscribed,
  buildUnsubscribed,
  buildWelcome,
  DEFAULT_LINE_MIN_LEVEL,
  findSensors,
  parseLineCommand,
  parsePostback,
  sensorsNear,
  type LineLang,
  type LineSubscriptionRepository,
  type LineTextMessage,
} from '../core/line-conversation.ts';
import type { SensorRegistry } from '../core/ports.ts';
import { isPublicSensor, type Sensor } from '../core/sensor.ts';
import type { Status } from '../core/status.ts';
import type { LineApi } from './line-api.ts';

/** `X-Line-Signature` = base64(HMAC-SHA256(channel secret, raw body)) (Messaging API, "Verify webhook signature"); compared in constant time. */
export function verifyLineSignature(secret: string, rawBody: Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  let got: Buffer;
  try {
    got = Buffer.from(header, 'base64');
  } catch {
    return false;
  }
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/** The webhook event fields kansui reads (Messaging API "Webhook event objects"); everything else is ignored. */
interface LineEvent {
  type: string;
  webhookEventId?: string;
  deliveryContext?: { isRedelivery?: boolean };
  replyToken?: string;
  source?: { type?: string; userId?: string };
  message?: { type?: string; text?: string; latitude?: number; longitude?: number };
  postback?: { data?: string };
}

export interface LineConversationDeps {
  repo: LineSubscriptionRepository;
  registry: SensorRegistry;
  api: LineApi;
  channelSecret: string;
  statusOf: (sensorId: string) => Status | undefined;
  /** Public map base URL, no trailing slash. */
  baseUrl?: string;
  /** Sensors within this many metres of a sent location are subscribed. */
  locationRadiusM: number;
  /** Area words offered as quick replies in the welcome. */
  areas: readonly string[];
  now: () => number;
  onError: (err: Error, context: string) => void;
}

/**
 * The residents' webhook (issue 14): `POST /api/line/webhook`. The signature
 * is checked on the raw bytes before anything is parsed; a bad or missing
 * one gets 401 and changes nothing. A good one is answered 200 at once and
 * the events are handled after, in order, each webhook event id once (LINE
 * redelivers with `deliveryContext.isRedelivery` when it got no 200).
 */
export function createLineConversation(deps: LineConversationDeps) {
  let queue: Promise<void> = Promise.resolve();
  let pending = 0;
  let idleWaiters: (() => void)[] = [];

  function langOf(userId: string): LineLang {
    return deps.repo.langOf(userId) ?? 'ja';
  }

  function reply(event: LineEvent, message: LineTextMessage): Promise<unknown> {
    if (!event.replyToken) return Promise.resolve();
    return deps.api.reply(event.replyToken, [message]).then((a) => {
      if (a.status >= 300) deps.onError(new Error(`LINE reply answered HTTP ${a.status}`), 'line reply');
    });
  }

  /** What residents may find and follow: what the public map shows (not retired, commissioned: issue 12). */
  function offered(s: Sensor | undefined): s is Sensor {
    return s !== undefined && s.state !== 'retired' && isPublicSensor(s);
  }

  function activeSensors(): Sensor[] {
    return deps.registry.list().filter(offered);
  }

  function withStatus(list: Sensor[]) {
    return list.map((s) => ({ ...s, status: deps.statusOf(s.id) }));
  }

  /** One sensor by id or name; a list when several match. */
  function pick(query: string): Sensor | Sensor[] {
    const found = findSensors(activeSensors(), query);
    return found.length === 1 ? (found[0] as Sensor) : found;
  }

  function subscribe(userId: string, lang: LineLang, sensor: Sensor, level: AlertSeverity | undefined): LineTextMessage {
    const existing = deps.repo.subscriptionsOf(userId).find((s) => s.sensorId === sensor.id);
    const minLevel = level ?? existing?.minLevel ?? DEFAULT_LINE_MIN_LEVEL;
    if (!deps.repo.langOf(userId)) deps.repo.saveUser(userId, lang, deps.now());
    deps.repo.subscribe({ userId, sensorId: sensor.id, minLevel }, deps.now());
    return buildSubscribed(lang, sensor, minLevel, existing !== undefined && level !== undefined);
  }

  function nameOf(sensorId: string, lang: LineLang): string {
    const s = deps.registry.get(sensorId);
    return s ? (lang === 'en' ? (s.nameEn ?? s.name) : s.name) : sensorId;
  }

  async function handleText(event: LineEvent, userId: string, text: string): Promise<void> {
    const lang = langOf(userId);
    const cmd = parseLineCommand(text);
    const opts = deps.baseUrl ? { baseUrl: deps.baseUrl } : {};
    switch (cmd.type) {
      case 'search':
        await reply(event, buildSearchResult(lang, cmd.query, withStatus(findSensors(activeSensors(), cmd.query)), opts));
        return;
      case 'subscribe':
      case 'level': {
        const p = pick(cmd.query);
        if (Array.isArray(p)) {
          await reply(event, p.length ? buildSearchResult(lang, cmd.query, withStatus(p), opts) : buildSearchResult(lang, cmd.query, [], opts));
          return;
        }
        await reply(event, subscribe(userId, lang, p, cmd.level));
        return;
      }
      case 'unsubscribe': {
        const mine = deps.repo.subscriptionsOf(userId);
        const matching = findSensors(mine.map((m) => deps.registry.get(m.sensorId)).filter((s): s is Sensor => s !== undefined), cmd.query);
        const ids = matching.length ? matching.map((s) => s.id) : mine.filter((m) => m.sensorId === cmd.query).map((m) => m.sensorId);
        if (ids.length > 1 && !matching.some((s) => s.id === cmd.query || s.name === cmd.query)) {
          await reply(event, buildAmbiguous(lang, cmd.query, ids.length));
          return;
        }
        for (const id of ids) deps.repo.unsubscribe(userId, id);
        await reply(event, buildUnsubscribed(lang, ids.map((id) => nameOf(id, lang))));
        return;
      }
      case 'unsubscribe_all': {
        const names = deps.repo.subscriptionsOf(userId).map((s) => nameOf(s.sensorId, lang));
        deps.repo.unsubscribeAll(userId);
        await reply(event, buildUnsubscribed(lang, names));
        return;
      }
      case 'list':
        await reply(event, buildList(lang, deps.repo.subscriptionsOf(userId).map((s) => ({ ...s, sensor: deps.registry.get(s.sensorId) }))));
        return;
      case 'lang':
        deps.repo.saveUser(userId, cmd.lang, deps.now());
        await reply(event, buildLangChanged(cmd.lang));
        return;
      case 'help':
        await reply(event, buildHelp(lang, deps.baseUrl));
        return;
    }
  }

  async function handle(event: LineEvent): Promise<void> {
    const userId = event.source?.userId;
    // Only one-to-one chats with a user: group and room events carry no resident to subscribe.
    if (!userId || (event.source?.type && event.source.type !== 'user')) return;
    if (event.webhookEventId && !deps.repo.claimEvent(event.webhookEventId, deps.now())) return;
    switch (event.type) {
      case 'follow': {
        // The profile is read for its language only and not kept (issue 14).
        const language = await deps.api.profileLang(userId).catch(() => undefined);
        const lang: LineLang = language?.toLowerCase().startsWith('en') ? 'en' : 'ja';
        deps.repo.saveUser(userId, lang, deps.now());
        // The city's areas (LINE_AREAS), or else the sensors most residents follow.
        const areas = deps.areas.length ? deps.areas : deps.repo.popularSensors(12).map((p) => deps.registry.get(p.sensorId)).filter(offered).map((s) => (lang === 'en' ? (s.nameEn ?? s.name) : s.name));
        await reply(event, buildWelcome(lang, { ...(deps.baseUrl && { baseUrl: deps.baseUrl }), areas }));
        return;
      }
      case 'unfollow':
        deps.repo.forgetUser(userId);
        return;
      case 'message':
        if (event.message?.type === 'text' && typeof event.message.text === 'string') return handleText(event, userId, event.message.text);
        if (event.message?.type === 'location' && typeof event.message.latitude === 'number' && typeof event.message.longitude === 'number') {
          const lang = langOf(userId);
          const near = sensorsNear(activeSensors(), { lat: event.message.latitude, lon: event.message.longitude }, deps.locationRadiusM);
          if (!near.length) {
            await reply(event, buildSearchResult(lang, lang === 'ja' ? `半径${deps.locationRadiusM} m` : `${deps.locationRadiusM} m around you`, [], {}));
            return;
          }
          const before = new Set(deps.repo.subscriptionsOf(userId).map((s) => s.sensorId));
          for (const s of near) if (!before.has(s.id)) subscribe(userId, lang, s, undefined);
          await reply(event, buildList(lang, deps.repo.subscriptionsOf(userId).map((s) => ({ ...s, sensor: deps.registry.get(s.sensorId) }))));
        }
        return;
      case 'postback': {
        const p = parsePostback(event.postback?.data ?? '');
        if (!p) return;
        const lang = langOf(userId);
        const sensor = deps.registry.get(p.sensorId);
        if (p.action === 'unsub') {
          deps.repo.unsubscribe(userId, p.sensorId);
          await reply(event, buildUnsubscribed(lang, [nameOf(p.sensorId, lang)]));
          return;
        }
        if (!offered(sensor)) return;
        await reply(event, subscribe(userId, lang, sensor, p.action === 'level' ? p.level : undefined));
        return;
      }
    }
  }

  function enqueue(events: LineEvent[]): void {
    pending++;
    queue = queue
      .then(async () => {
        for (const e of events) {
          try {
            await handle(e);
          } catch (err) {
            deps.onError(err as Error, `line ${e.type} event`);
          }
        }
      })
      .finally(() => {
        pending--;
        if (!pending) {
          const w = idleWaiters;
          idleWaiters = [];
          for (const f of w) f();
        }
      });
  }

  return {
    routes(app: Hono<AuthEnv>): void {
      app.post('/api/line/webhook', async (c) => {
        const raw = Buffer.from(await c.req.arrayBuffer());
        if (!verifyLineSignature(deps.channelSecret, raw, c.req.header('X-Line-Signature'))) return c.json({ error: { code: 'bad_signature', message: 'X-Line-Signature does not match' } }, 401);
        let events: LineEvent[];
        try {
          const body = JSON.parse(raw.toString('utf8')) as { events?: unknown };
          events = Array.isArray(body.events) ? (body.events as LineEvent[]) : [];
        } catch {
          return c.json({ error: { code: 'bad_request', message: 'body is not JSON' } }, 400);
        }
        // LINE's "verify" button sends no events: a 200 is all it needs.
        if (events.length) enqueue(events);
        return c.json({});
      });
    },
    /** Resolves when every received event has been handled (tests, shutdown). */
    idle(): Promise<void> {
      if (!pending) return Promise.resolve();
      return new Promise((r) => idleWaiters.push(r));
    },
  };
}
