import { z } from 'zod';
import { LIMITS } from './core/limits.ts';
import { LOGIN_THROTTLE } from './core/login-throttle.ts';
import { MAX_HASHES_PER_ADDRESS } from './auth/hash-queue.ts';
import { checkTargetUrl, DEFAULT_PUSH_HOSTS, parseAllowList, parsePushHosts } from './core/outbound-policy.ts';
import { parsePublicLinks } from './core/public-links.ts';

const Port = z.coerce.number().int().min(0).max(65535);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

/**
 * Every environment variable kansui reads, with its default. The README's
 * configuration table mirrors this schema; keep them in step.
 */
export const ConfigSchema = z.object({
  HTTP_PORT: Port.default(8080),
  HTTP_HOST: z.string().default('0.0.0.0'),
  /**
   * The HTTP listen queue (listen(2) backlog; the kernel caps it at net.core.somaxconn). Node's default, 511,
   * overflowed when a web process's 9,000 viewers came back at once after a failover (bench: sse).
   */
  HTTP_BACKLOG: z.coerce.number().int().min(1).max(65535).default(4096),
  MQTT_PORT: Port.default(1883),
  MQTT_HOST: z.string().default('0.0.0.0'),
  DATA_DIR: z.string().min(1).default('./data'),
  MQTT_URL: optionalString.pipe(z.url({ protocol: /^(mqtts?|tcp|ssl|wss?)$/ }).optional()),
  MQTT_USERNAME: optionalString,
  MQTT_PASSWORD: optionalString,
  MQTT_CLIENT_ID: z.string().min(1).max(23).default('kansui-ingest'),
  // Roles (issue 15, docs/scaling.md): one process does everything (`all`), or the work is split over processes that talk through the broker.
  /** all | core (one) | ingest (any number) | web (any number); the split roles need MQTT_URL (the bus is the external broker). */
  KANSUI_ROLE: z.enum(['all', 'core', 'ingest', 'web']).default('all'),
  /** This process among its role's instances (events' origin, bus client id); default hostname and pid. Letters, digits, `_` and `-`. */
  KANSUI_INSTANCE: optionalString.pipe(z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'letters, digits, _ and - only (at most 40)').optional()),
  /** Topic prefix of the derived events on the bus (`<prefix>/ingest/readings`, `<prefix>/core/status`, …); sensors can never publish there. */
  EVENTS_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, 'topic levels of letters, digits, _ and - (no wildcards, no leading $)').default('kansui/events'),
  /** Ingest workers subscribe to `$share/<group>/flood/+/reading` so the broker splits readings between them (Mosquitto 2, EMQX; not the embedded broker). */
  MQTT_SHARE_GROUP: optionalString.pipe(z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'letters, digits, _ and - only (at most 40)').optional()),
  // LoRaWAN network servers (issue 11, docs/devices.md): outbound MQTT connections the operator configures.
  /** The Things Stack v3 MQTT server, e.g. mqtts://eu1.cloud.thethings.network:8883 (QoS 0 only). */
  TTN_MQTT_URL: optionalString.pipe(z.url({ protocol: /^(mqtts?|tcp|ssl|wss?)$/ }).optional()),
  /** `{application id}@{tenant}` (`…@ttn` on The Things Network). */
  TTN_MQTT_USERNAME: optionalString,
  /** An API key of the application with "Read application traffic". */
  TTN_MQTT_PASSWORD: optionalString,
  /** ChirpStack v4's MQTT broker (its MQTT integration, JSON encoding). */
  CHIRPSTACK_MQTT_URL: optionalString.pipe(z.url({ protocol: /^(mqtts?|tcp|ssl|wss?)$/ }).optional()),
  CHIRPSTACK_MQTT_USERNAME: optionalString,
  CHIRPSTACK_MQTT_PASSWORD: optionalString,
  /** Fixed client id: the broker keeps the session (and QoS 1 events) while kansui restarts. */
  CHIRPSTACK_MQTT_CLIENT_ID: z.string().min(1).max(23).default('kansui-chirpstack'),
  // Embedded broker limits (issue 10; defaults and their reasons in services/core/limits.ts).
  /** Per-sensor token bucket: readings a minute, sustained; the excess is acknowledged, counted as rate_limited and dropped. */
  MQTT_SENSOR_RATE_PER_MIN: z.coerce.number().positive().max(60_000_000).default(LIMITS.sensorRatePerMin),
  /** …and the bucket size: readings a sensor may send at once (a resend after reconnecting). */
  MQTT_SENSOR_BURST: z.coerce.number().int().min(1).max(10_000_000).default(LIMITS.sensorBurst),
  /** Simultaneous connections per sensor credential; more are refused with CONNACK 3. */
  MQTT_MAX_CONNECTIONS_PER_SENSOR: z.coerce.number().int().min(1).max(1000).default(LIMITS.maxConnectionsPerSensor),
  /** Seconds a new MQTT connection has to send CONNECT before it is dropped. */
  MQTT_CONNECT_TIMEOUT_S: z.coerce.number().positive().max(300).default(LIMITS.connectTimeoutS),
  /** Connections not yet authenticated, all sources together; beyond it the oldest is dropped. */
  MQTT_MAX_PENDING_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(LIMITS.maxPendingConnections),
  // Console sign-in limits (issue 10, items 8-10; defaults and their reasons in services/core/login-throttle.ts and services/auth/hash-queue.ts).
  /** Failed sign-ins a minute for one username from one address; the next gets 429. */
  SIGNIN_MAX_FAILURES: z.coerce.number().int().min(1).max(1000).default(LOGIN_THROTTLE.maxPerPair),
  /** Failed sign-ins a minute from one address (an IPv6 /64), any username. */
  SIGNIN_MAX_FAILURES_PER_ADDRESS: z.coerce.number().int().min(1).max(100_000).default(LOGIN_THROTTLE.maxPerAddress),
  /** Failed sign-ins for one username from all addresses within 15 minutes before it is slowed (never locked) for addresses it has not signed in from. */
  SIGNIN_USER_SLOWDOWN_AFTER: z.coerce.number().int().min(1).max(100_000).default(LOGIN_THROTTLE.userSlowAfter),
  /** While a username is slowed: seconds between attempts from addresses it has not signed in from (all of them together). */
  SIGNIN_USER_SLOW_INTERVAL_S: z.coerce.number().min(0).max(3600).default(LOGIN_THROTTLE.userSlowIntervalMs / 1000),
  /** Password hashes one address may have running or waiting; more get 429 at once, without hashing. */
  SIGNIN_MAX_HASHES_PER_ADDRESS: z.coerce.number().int().min(1).max(64).default(MAX_HASHES_PER_ADDRESS),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  STORE: z.enum(['sqlite', 'influx']).default('sqlite'),
  /** STORE=sqlite (issue 10 #14): writer-thread respawns allowed per window; one more death and kansui exits 1 for its supervisor. */
  SQLITE_WRITER_MAX_RESTARTS: z.coerce.number().int().min(0).max(100).default(5),
  SQLITE_WRITER_RESTART_WINDOW_S: z.coerce.number().int().min(1).max(86_400).default(60),
  /**
   * STORE=sqlite (issue 10 #11): start even though readings.db is not the store kansui.db recorded
   * (emptied, replaced, missing). For one deliberate start with a new store; unset it afterwards.
   */
  ACCEPT_NEW_READINGS_STORE: z
    .enum(['true', 'false', '1', '0', ''])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  /** STORE=influx (docs/influxdb.md): base URL of InfluxDB 1.x, 2.x or 3.x; required then. */
  INFLUX_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  /** The 1.x database, or the 2.x/3.x bucket (through a DBRP mapping / v1 compatibility). */
  INFLUX_DATABASE: z.string().min(1).default('kansui'),
  INFLUX_TOKEN: optionalString,
  INFLUX_USERNAME: optionalString,
  INFLUX_PASSWORD: optionalString,
  /** A live write unanswered this long is spooled instead (ms). */
  INFLUX_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
  /** Most lines per write request (issue 3: batches of up to 5,000 lines). */
  INFLUX_BATCH_LINES: z.coerce.number().int().min(1).max(50_000).default(5000),
  MAP_TILE_URL: z.string().default('https://tile.openstreetmap.org/{z}/{x}/{y}.png'),
  MAP_ATTRIBUTION: z
    .string()
    .default('&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'),
  /** Map view when the page opens: Kinokawa city, Wakayama. */
  MAP_CENTER: z
    .string()
    .default('34.27,135.40')
    .transform((v, ctx) => {
      const [lat, lon] = v.split(',').map(Number);
      if (!Number.isFinite(lat) || !Number.isFinite(lon)) {
        ctx.addIssue({ code: 'custom', message: 'expected "lat,lon"' });
        return z.NEVER;
      }
      return [lat, lon] as [number, number];
    }),
  MAP_ZOOM: z.coerce.number().int().min(1).max(19).default(13),
  /**
   * Behind a TLS-terminating reverse proxy that overwrites X-Forwarded-Proto,
   * -Host and -For: believe them (Secure `__Host-` session cookie, HSTS,
   * client address for login throttling). Never on without such a proxy.
   */
  TRUST_PROXY: z
    .enum(['true', 'false', '1', '0', ''])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  /** External Mosquitto (MQTT_URL): password file kansui rewrites when it issues or revokes sensor credentials. */
  MOSQUITTO_PASSWORD_FILE: optionalString,
  /** …and the ACL file it writes next to it (deny by default, `pattern write flood/%u/reading`). */
  MOSQUITTO_ACL_FILE: optionalString,
  /** Mosquitto's pid file: kansui sends SIGHUP to reload after rewriting the files. */
  MOSQUITTO_PID_FILE: optionalString,
  /** Or a command that reloads it (run with /bin/sh), e.g. `systemctl reload mosquitto`. */
  MOSQUITTO_RELOAD_COMMAND: optionalString,
  /**
   * Or provision sensors through Mosquitto's dynamic-security plugin (issue 15):
   * clients and roles created over MQTT on `$CONTROL/dynamic-security/v1`, no file and no SIGHUP.
   */
  MOSQUITTO_DYNSEC: z
    .enum(['true', 'false', '1', '0', ''])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  /** The plugin's admin client (`mosquitto_ctrl dynsec init FILE USER` makes one). */
  MOSQUITTO_DYNSEC_USERNAME: z.string().min(1).default('admin'),
  MOSQUITTO_DYNSEC_PASSWORD: optionalString,
  /** Where the admin connects, when not MQTT_URL (e.g. a TLS listener kept for administration). */
  MOSQUITTO_DYNSEC_URL: optionalString.pipe(z.url({ protocol: /^(mqtts?|tcp|ssl|wss?)$/ }).optional()),
  // Alert channels for headless deployments (issue 4, docs/alerts.md); staff can add more through the API.
  /** Comma-separated webhook URLs that get every alert (signed with ALERT_WEBHOOK_SECRET). */
  ALERT_WEBHOOK_URLS: optionalString.pipe(
    z
      .string()
      .transform((v) => v.split(',').map((u) => u.trim()).filter(Boolean))
      .pipe(z.array(z.url({ protocol: /^https?$/ })))
      .optional(),
  ),
  /** HMAC-SHA256 key for `X-Kansui-Signature` on env webhooks; 16+ characters. */
  ALERT_WEBHOOK_SECRET: optionalString.pipe(z.string().min(16).optional()),
  /** LINE Messaging API channel access token (not LINE Notify, which ended in March 2025). */
  LINE_CHANNEL_TOKEN: optionalString,
  /** Comma-separated LINE user/group/room ids to push to. */
  LINE_TO: optionalString.transform((v) => v?.split(',').map((s) => s.trim()).filter(Boolean)),
  LINE_API_BASE: z.url({ protocol: /^https?$/ }).default('https://api.line.me'),
  /**
   * Issue 12 (services/core/trend.ts, docs/map.md): minutes of readings the trend and the time to the next level
   * are fitted over, before the newest reading; widened to 2 reporting intervals for slow sensors. 10 min is the
   * rate-of-rise window of docs/alerts.md: long enough for 3+ readings at storm rates, short enough that the
   * tail of a previous storm does not turn a fresh rise into "falling".
   */
  TREND_WINDOW_MIN: z.coerce.number().int().min(2).max(180).default(10),
  // Residents on the city's LINE official account (issue 14, docs/line.md).
  /** Channel secret of the Messaging API channel: turns on POST /api/line/webhook, whose X-Line-Signature it verifies (needs LINE_CHANNEL_TOKEN). */
  LINE_CHANNEL_SECRET: optionalString,
  /** A location a resident sends subscribes them to the sensors within this many metres. */
  LINE_LOCATION_RADIUS_M: z.coerce.number().int().min(50).max(20_000).default(500),
  /** Comma-separated area words offered as buttons in the welcome (e.g. 打田,粉河,那賀); each searches like a typed name. */
  LINE_AREAS: optionalString.transform((v) => v?.split(',').map((s) => s.trim()).filter(Boolean) ?? []),
  /** Share of the monthly message quota (GET /v2/bot/message/quota) at which staff are warned and LINE_QUOTA_SHORT_MIN_LEVEL applies. */
  LINE_QUOTA_WARN_SHARE: z.coerce.number().min(0).max(1).default(0.8),
  /** When the quota is short: only episodes that reached this level are pushed to residents (admin's choice). */
  LINE_QUOTA_SHORT_MIN_LEVEL: z.enum(['caution', 'warning', 'danger']).default('danger'),
  /** How often the quota and its consumption are read (seconds). */
  LINE_QUOTA_POLL_S: z.coerce.number().int().min(10).max(86_400).default(600),
  /** e.g. smtp://user:pass@mail.example:587 or smtps://…:465 (nodemailer URL form). */
  SMTP_URL: optionalString.pipe(z.url({ protocol: /^smtps?$/ }).optional()),
  ALERT_EMAIL_TO: optionalString.transform((v) => v?.split(',').map((s) => s.trim()).filter(Boolean)),
  ALERT_EMAIL_FROM: z.string().min(3).default('kansui <kansui@localhost>'),
  /** Web Push VAPID key pair (base64url, e.g. from `npx web-push generate-vapid-keys`). */
  VAPID_PUBLIC_KEY: optionalString,
  VAPID_PRIVATE_KEY: optionalString,
  VAPID_SUBJECT: z.string().regex(/^(mailto:|https:)/, 'expected mailto: or https: (RFC 8292 §2.1)').default('mailto:admin@localhost'),
  /** Without VAPID_* keys: generate a pair into DATA_DIR/vapid.json on first start (issue 12: push works out of the box); false leaves Web Push off. */
  VAPID_GENERATE: z
    .enum(['true', 'false', '1', '0', ''])
    .default('true')
    .transform((v) => v !== 'false' && v !== '0'),
  /** Lowest severity the environment-configured recipients receive. */
  ALERT_MIN_SEVERITY: z.enum(['caution', 'warning', 'danger']).default('caution'),
  /**
   * Outbound policy of every alert channel (issue 10, SSRF; services/core/outbound-policy.ts):
   * loopback, private, link-local, unique-local and reserved addresses are refused
   * unless listed here: CIDRs, addresses, address:port or host[:port], comma-separated.
   */
  ALERT_ALLOW_PRIVATE_TARGETS: optionalString.transform((v, ctx) => {
    const parsed = parseAllowList(v);
    if ('error' in parsed) {
      ctx.addIssue({ code: 'custom', message: parsed.error });
      return z.NEVER;
    }
    return parsed.rules;
  }),
  /** Push services resident subscriptions may point at: hosts, *.domain, exact origins (the only way to allow http), or *. */
  PUSH_ALLOWED_HOSTS: z
    .string()
    .default(DEFAULT_PUSH_HOSTS)
    .transform((v, ctx) => {
      const parsed = parsePushHosts(v);
      if ('error' in parsed) {
        ctx.addIssue({ code: 'custom', message: parsed.error });
        return z.NEVER;
      }
      return parsed.rules;
    }),
  /** Resident push subscriptions kept at most; a new one beyond it gets 503 (an endpoint already known is replaced, not added). */
  PUSH_MAX_SUBSCRIPTIONS: z.coerce.number().int().min(0).max(10_000_000).default(100_000),
  /**
   * Public URL of this service (e.g. https://kansui.city.example): every
   * absolute link (CAP, Atom, alert messages) and the CAP sender use it,
   * whatever a request's Host or X-Forwarded-* say. Without it, links follow
   * the request (services/api/client-info.ts).
   */
  PUBLIC_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  /**
   * Links residents see beside the map (issue 12), as JSON: `[{"kind":"hazard_map","url":"https://…"}]`,
   * kinds evacuation, hazard_map, shelters, disaster_page, other (with label); https or a path on this site.
   * Unset: DATA_DIR/public-links.json if it exists.
   */
  PUBLIC_LINKS: optionalString.transform((v, ctx) => {
    if (v === undefined) return undefined;
    const parsed = parsePublicLinks(v);
    if ('error' in parsed) {
      ctx.addIssue({ code: 'custom', message: parsed.error });
      return z.NEVER;
    }
    return parsed.links;
  }),
  /**
   * Origins that may frame the embeddable view /embed (issue 12), e.g. `https://www.city.example,https://map.city.example`:
   * its CSP frame-ancestors. Every other page keeps frame-ancestors 'none'. Empty: nobody may frame it.
   */
  EMBED_ORIGINS: optionalString.transform((v, ctx) => {
    const origins: string[] = [];
    for (const part of (v ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
      let u: URL | undefined;
      try {
        u = new URL(part);
      } catch {
        u = undefined;
      }
      // An origin only (CSP3 host-source with scheme): no path, query, wildcard or credentials.
      if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:') || u.origin !== part.replace(/\/$/, '')) {
        ctx.addIssue({ code: 'custom', message: `${part}: expected an origin such as https://www.city.example` });
        return z.NEVER;
      }
      origins.push(u.origin);
    }
    return origins;
  }),
  /** The older name of PUBLIC_URL, still read; set one of them. */
  ALERT_PUBLIC_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  /** Hysteresis and rate of rise (defaults from issue 4; see services/core/alerts/policy.ts). */
  ALERT_DEAD_BAND_CM: z.coerce.number().min(0).max(100).default(2),
  ALERT_HOLD_S: z.coerce.number().int().min(0).max(86_400).default(600),
  ALERT_RISE_CM: z.coerce.number().positive().max(1000).default(10),
  ALERT_RISE_WINDOW_S: z.coerce.number().int().min(60).max(86_400).default(600),
  /** Reminders of unacknowledged alerts (issue 13; services/core/alerts/reminder.ts): every this many seconds (any positive number; 0 turns them off). */
  ALERT_REMIND_S: z.coerce.number().min(0).max(86_400).default(600),
  /** Lowest severity reminded. */
  ALERT_REMIND_MIN_SEVERITY: z.enum(['caution', 'warning', 'danger']).default('danger'),
  /** Recipient labels added by each reminder in turn (the next group when nobody acknowledges). */
  ALERT_REMIND_GROUPS: optionalString.transform((v) => v?.split(',').map((s) => s.trim()).filter(Boolean) ?? []),
}).superRefine((c, ctx) => {
  // Alert channels (issue 4): a recipient list needs its channel's credentials.
  if (c.ALERT_WEBHOOK_URLS?.length && !c.ALERT_WEBHOOK_SECRET) {
    ctx.addIssue({ code: 'custom', path: ['ALERT_WEBHOOK_SECRET'], message: 'required when ALERT_WEBHOOK_URLS is set (receivers verify X-Kansui-Signature with it)' });
  }
  if (c.LINE_TO?.length && !c.LINE_CHANNEL_TOKEN) {
    ctx.addIssue({ code: 'custom', path: ['LINE_CHANNEL_TOKEN'], message: 'required when LINE_TO is set' });
  }
  if (c.LINE_CHANNEL_SECRET && !c.LINE_CHANNEL_TOKEN) {
    ctx.addIssue({ code: 'custom', path: ['LINE_CHANNEL_TOKEN'], message: 'required when LINE_CHANNEL_SECRET is set (residents are answered and pushed with it)' });
  }
  if (c.ALERT_EMAIL_TO?.length && !c.SMTP_URL) {
    ctx.addIssue({ code: 'custom', path: ['SMTP_URL'], message: 'required when ALERT_EMAIL_TO is set' });
  }
  if (c.PUBLIC_URL && c.ALERT_PUBLIC_URL && c.PUBLIC_URL.replace(/\/+$/, '') !== c.ALERT_PUBLIC_URL.replace(/\/+$/, '')) {
    ctx.addIssue({ code: 'custom', path: ['ALERT_PUBLIC_URL'], message: 'differs from PUBLIC_URL; ALERT_PUBLIC_URL is its older name, set PUBLIC_URL only' });
  }
  if ((c.VAPID_PUBLIC_KEY === undefined) !== (c.VAPID_PRIVATE_KEY === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['VAPID_PRIVATE_KEY'], message: 'VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY go together' });
  }
  // Operator-set targets obey the same outbound policy as staff ones (issue 10): fail at start, not at the first alert.
  const targets: [keyof typeof c, string | undefined, string[]][] = [
    ...(c.ALERT_WEBHOOK_URLS ?? []).map((u): [keyof typeof c, string, string[]] => ['ALERT_WEBHOOK_URLS', u, ['http:', 'https:']]),
    ['LINE_API_BASE', c.LINE_API_BASE, ['http:', 'https:']],
    ['SMTP_URL', c.SMTP_URL, ['smtp:', 'smtps:']],
  ];
  for (const [name, url, schemes] of targets) {
    const check = url === undefined ? undefined : checkTargetUrl(url, { rules: c.ALERT_ALLOW_PRIVATE_TARGETS, schemes, allowCredentials: true });
    if (check && !check.ok) ctx.addIssue({ code: 'custom', path: [name], message: check.reason });
  }
  // The Things Stack needs its application's username and API key (issue 11).
  if (c.TTN_MQTT_URL && (!c.TTN_MQTT_USERNAME || !c.TTN_MQTT_PASSWORD)) {
    ctx.addIssue({ code: 'custom', path: [c.TTN_MQTT_USERNAME ? 'TTN_MQTT_PASSWORD' : 'TTN_MQTT_USERNAME'], message: 'required when TTN_MQTT_URL is set ({application id}@{tenant} and an API key)' });
  }
  // Roles (issue 15): the split roles talk through an external broker; the embedded one is only for `all`.
  if (c.KANSUI_ROLE !== 'all' && !c.MQTT_URL) {
    ctx.addIssue({ code: 'custom', path: ['MQTT_URL'], message: `required when KANSUI_ROLE=${c.KANSUI_ROLE} (the roles exchange readings and events through an external broker: Mosquitto 2 or EMQX)` });
  }
  if (c.MQTT_SHARE_GROUP && !c.MQTT_URL) {
    ctx.addIssue({ code: 'custom', path: ['MQTT_SHARE_GROUP'], message: 'needs an external broker (MQTT_URL): the embedded broker has no shared subscriptions' });
  }
  // External Mosquitto provisioning (issue 15): one mode at a time.
  if (c.MOSQUITTO_DYNSEC && !c.MOSQUITTO_DYNSEC_PASSWORD) {
    ctx.addIssue({ code: 'custom', path: ['MOSQUITTO_DYNSEC_PASSWORD'], message: 'required when MOSQUITTO_DYNSEC=true (the dynamic-security admin client)' });
  }
  if (c.MOSQUITTO_DYNSEC && !c.MQTT_URL && !c.MOSQUITTO_DYNSEC_URL) {
    ctx.addIssue({ code: 'custom', path: ['MOSQUITTO_DYNSEC'], message: 'needs an external Mosquitto: set MQTT_URL (or MOSQUITTO_DYNSEC_URL)' });
  }
  if (c.MOSQUITTO_DYNSEC && c.MOSQUITTO_PASSWORD_FILE) {
    ctx.addIssue({ code: 'custom', path: ['MOSQUITTO_PASSWORD_FILE'], message: 'set MOSQUITTO_DYNSEC=true or MOSQUITTO_PASSWORD_FILE, not both' });
  }
  // Cross-variable rules of the InfluxDB store (issue 3).
  if (c.STORE === 'influx' && !c.INFLUX_URL) {
    ctx.addIssue({ code: 'custom', path: ['INFLUX_URL'], message: 'required when STORE=influx (e.g. http://localhost:8086)' });
  }
  if (c.INFLUX_TOKEN && c.INFLUX_USERNAME) {
    ctx.addIssue({ code: 'custom', path: ['INFLUX_TOKEN'], message: 'set INFLUX_TOKEN or INFLUX_USERNAME/INFLUX_PASSWORD, not both' });
  }
  if ((c.INFLUX_USERNAME === undefined) !== (c.INFLUX_PASSWORD === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['INFLUX_PASSWORD'], message: 'INFLUX_USERNAME and INFLUX_PASSWORD go together' });
  }
});

export type Config = Readonly<z.infer<typeof ConfigSchema>>;

/** PUBLIC_URL, or its older name ALERT_PUBLIC_URL, without a trailing slash. */
export function readPublicUrl(config: Pick<Config, 'PUBLIC_URL' | 'ALERT_PUBLIC_URL'>): string | undefined {
  return (config.PUBLIC_URL ?? config.ALERT_PUBLIC_URL)?.replace(/\/+$/, '');
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Read and validate configuration once, at start. Fails with a message that
 * names each bad variable, e.g. `HTTP_PORT: Too big: expected number to be <=65535`.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const known = Object.fromEntries(Object.keys(ConfigSchema.shape).map((k) => [k, env[k]]));
  const parsed = ConfigSchema.safeParse(known);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return Object.freeze(parsed.data);
}
