import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createSqliteAlerts } from '../../services/storage/sqlite-alerts.ts';

/**
 * Issue 10: delivery-log rows written before the fix kept the receiver's
 * answer (up to 200 characters of an HTTP body), SMTP replies and network
 * error texts naming internal addresses. Upgrading rewrites them to the
 * status and an error class; kansui's own words stay.
 */
describe('delivery log written before issue 10: scrubbed on upgrade', () => {
  it('keeps status and class, drops what the remote side said', () => {
    const db = new Database(':memory:');
    createSqliteAlerts(db);
    const insert = db.prepare(
      "INSERT INTO alert_deliveries (notice_id, alert_id, event, recipient_id, channel, target, attempt, ok, final, status, error, duration_ms, at) VALUES ('n', 'a', 'raised', 'r', ?, 't', 1, 0, 1, ?, ?, 1, 0)",
    );
    const old: [string, number | null, string | null][] = [
      ['webhook', 500, 'HTTP 500: {"AccessKeyId":"ASIA-secret","SecretAccessKey":"…"}'],
      ['webpush', 200, null],
      ['webpush', 403, 'HTTP 403'],
      ['email', 550, 'Message failed: 550 5.1.1 <x@city.test>: Recipient address rejected: internal relay 10.0.0.3'],
      ['webhook', null, 'connect ECONNREFUSED 127.0.0.1:19999'],
      ['webhook', null, 'getaddrinfo ENOTFOUND intranet.city.lan'],
      ['line', null, 'fetch failed: other side closed'],
      ['webhook', null, 'timed out after 10000 ms'],
      ['webhook', null, 'no webhook secret configured'],
      ['webhook', null, 'something odd from 192.168.1.9'],
    ];
    for (const [channel, status, error] of old) insert.run(channel, status, error);
    db.prepare("UPDATE schema_migrations SET version = 1 WHERE name = 'alerts'").run();
    createSqliteAlerts(db);
    const rows = db.prepare('SELECT status, error FROM alert_deliveries ORDER BY id').all();
    expect(rows).toEqual([
      { status: 500, error: 'HTTP 500' },
      { status: 200, error: null },
      { status: 403, error: 'HTTP 403' },
      { status: 550, error: 'SMTP 550' },
      { status: null, error: 'connection_refused' },
      { status: null, error: 'dns_failed' },
      { status: null, error: 'connection_reset' },
      { status: null, error: 'timed out after 10000 ms' },
      { status: null, error: 'no webhook secret configured' },
      { status: null, error: 'network_error' },
    ]);
    db.close();
  });
});
