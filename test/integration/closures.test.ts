import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSensor } from '../../services/sensors/provision.ts';
import { makeTempDir, startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { waitFor } from '../helpers/wait.ts';

const run = promisify(execFile);
const XSD = fileURLToPath(new URL('../fixtures/cap/CAP-v1.2.xsd', import.meta.url));

/**
 * Issue 13: staff close a road at a sensor and lift it later. The API, the
 * event stream, CAP and Atom show it as the city's decision, apart from the
 * sensor's status; each change and each acknowledgement is audited in words.
 */
describe('road closures and the audit log in words', () => {
  let k: TestKansui;
  const tmp = makeTempDir('kansui-closure-cap-');
  let staff: string;
  let technician: string;
  let admin: string;
  const events: { event: string; data: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    k = await startTestKansui({}, { sweepMs: 60_000 });
    staff = k.users.issueToken(k.users.create('sato', 'staff', null).id).token;
    technician = k.users.issueToken(k.users.create('suzuki', 'technician', null).id).token;
    admin = k.users.issueToken(k.users.create('boss', 'admin', null).id).token;
    registerSensor(k.registry, { id: 'uchita-01', name: '打田駅前アンダーパス', nameEn: 'Uchita Sta. underpass', lat: 34.2711, lon: 135.3952, intervalS: 3600 }, Date.now());
    k.hub.subscribe((e) => events.push({ event: e.event, data: JSON.parse(e.data) }));
  });
  afterAll(async () => {
    await k?.dispose();
    tmp.remove();
  });

  const call = (method: string, path: string, token: string | undefined, body?: unknown) =>
    fetch(`${k.httpUrl}${path}`, {
      method,
      headers: { Origin: k.httpUrl, ...(token && { Authorization: `Bearer ${token}` }), ...(body !== undefined && { 'Content-Type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  const feature = async () => ((await (await fetch(`${k.httpUrl}/api/sensors`)).json()) as { features: { id: string; properties: Record<string, unknown> }[] }).features.find((f) => f.id === 'uchita-01')!;

  it('closes, shows and lifts a closure; status stays what the sensor says', async () => {
    const before = await feature();
    expect(before.properties.closure).toBeNull();
    expect((await call('POST', '/api/closures', undefined, { sensor: 'uchita-01', reason: 'x' })).status).toBe(401);
    expect((await call('POST', '/api/closures', technician, { sensor: 'uchita-01', reason: 'x' })).status).toBe(403);
    expect((await call('POST', '/api/closures', staff, { sensor: 'nope-99', reason: 'x' })).status).toBe(404);
    const bad = await call('POST', '/api/closures', staff, { sensor: 'uchita-01', reason: '' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^reason/);

    const res = await call('POST', '/api/closures', staff, { sensor: 'uchita-01', reason: '冠水のため通行止め' });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; sensor_id: string; reason: string; since: string; by: string };
    expect(created).toMatchObject({ sensor_id: 'uchita-01', reason: '冠水のため通行止め', by: 'sato', set_by_city: true });
    expect(created.id).toMatch(/^cl_/);
    expect(created.since).toMatch(/\+09:00$/);
    expect((await call('POST', '/api/closures', staff, { sensor: 'uchita-01', reason: 'again' })).status).toBe(409);

    const f = await feature();
    expect(f.properties.status).toBe(before.properties.status); // the sensor's status is what it measured; the closure is the city's
    expect(f.properties.closure).toMatchObject({ id: created.id, reason: '冠水のため通行止め', since: created.since, set_by_city: true });
    expect(f.properties.closure).not.toHaveProperty('by'); // the public does not see staff usernames
    const one = (await (await fetch(`${k.httpUrl}/api/sensors/uchita-01`)).json()) as { properties: { closure: { id: string } } };
    expect(one.properties.closure.id).toBe(created.id);
    expect(events.find((e) => e.event === 'closure')?.data).toMatchObject({ event: 'closed', sensor_id: 'uchita-01' });

    const cap = await (await fetch(`${k.httpUrl}/api/alerts.cap`)).text();
    expect(cap).toContain('<event>通行止め</event>');
    expect(cap).toContain('<senderName>市（道路管理者）</senderName>');
    expect(cap).toContain('冠水のため通行止め');
    const file = join(tmp.dir, 'closure.xml');
    writeFileSync(file, cap);
    const lint = await run('xmllint', ['--noout', '--schema', XSD, file]).then((r) => r.stderr, (e: { stderr?: string }) => e.stderr ?? 'failed');
    expect(lint).toContain('validates');
    const atom = await (await fetch(`${k.httpUrl}/api/alerts.atom`)).text();
    expect(atom).toContain(`:closure:${created.id}</id>`);
    expect(atom).toContain('【通行止め】打田駅前アンダーパス / [Road closed] Uchita Sta. underpass');

    expect((await call('DELETE', '/api/closures/cl_nothing', staff)).status).toBe(404);
    expect((await call('DELETE', `/api/closures/${created.id}`, staff)).status).toBe(204);
    expect((await call('DELETE', `/api/closures/${created.id}`, staff)).status).toBe(409);
    expect((await feature()).properties.closure).toBeNull();
    expect(await (await fetch(`${k.httpUrl}/api/alerts.atom`)).text()).not.toContain(':closure:');
    expect(((await (await fetch(`${k.httpUrl}/api/closures`)).json()) as { closures: unknown[] }).closures).toEqual([]);
  });

  it('closes a drawn road segment too: listed with its line, in CAP (valid) and Atom, audited, lifted', async () => {
    const path = [[135.395, 34.271], [135.4, 34.2725], [135.405, 34.274]];
    expect((await call('POST', '/api/closures', staff, { segment: { name: '県道打田線 打田駅前〜東田中', path: [[135.395, 34.271]] }, reason: 'x' })).status).toBe(400); // a line needs two points
    expect((await call('POST', '/api/closures', staff, { sensor: 'uchita-01', segment: { name: 'a', path }, reason: 'x' })).status).toBe(400); // one or the other
    const res = await call('POST', '/api/closures', staff, { segment: { name: '県道打田線 打田駅前〜東田中', path }, reason: '法面崩落のため' });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; sensor_id: null; segment: { name: string; geometry: { type: string; coordinates: number[][] } } };
    expect(created).toMatchObject({ sensor_id: null, segment: { name: '県道打田線 打田駅前〜東田中', geometry: { type: 'LineString', coordinates: path } } });
    const listed = ((await (await fetch(`${k.httpUrl}/api/closures`)).json()) as { closures: { id: string }[] }).closures;
    expect(listed.map((c) => c.id)).toContain(created.id);
    expect(events.filter((e) => e.event === 'closure').at(-1)?.data).toMatchObject({ event: 'closed', sensor_id: null });

    const cap = await (await fetch(`${k.httpUrl}/api/alerts.cap`)).text();
    expect(cap).toContain('<areaDesc>県道打田線 打田駅前〜東田中</areaDesc><circle>34.271,135.395 0.05</circle><circle>34.2725,135.4 0.05</circle>');
    const file = join(tmp.dir, 'segment.xml');
    writeFileSync(file, cap);
    const lint = await run('xmllint', ['--noout', '--schema', XSD, file]).then((r) => r.stderr, (e: { stderr?: string }) => e.stderr ?? 'failed');
    expect(lint).toContain('validates');
    expect(await (await fetch(`${k.httpUrl}/api/alerts.atom`)).text()).toContain('【通行止め】県道打田線 打田駅前〜東田中');
    expect((await call('DELETE', `/api/closures/${created.id}`, staff)).status).toBe(204);
    expect(await (await fetch(`${k.httpUrl}/api/alerts.atom`)).text()).not.toContain(':closure:');
  });

  it('writes closures and acknowledgements to the audit log in words (ja and en)', async () => {
    const t0 = Date.now() - 30 * 60_000;
    await k.ingest.submit('uchita-01', Buffer.from(JSON.stringify({ ts: t0, level_cm: 12 })));
    await k.ingest.submit('uchita-01', Buffer.from(JSON.stringify({ ts: t0 + 60_000, level_cm: 33 })));
    await k.ingest.submit('uchita-01', Buffer.from(JSON.stringify({ ts: t0 + 120_000, level_cm: 34 })));
    const alert = await waitFor(() => k.alerting.store.active().find((a) => a.sensorId === 'uchita-01' && a.severity === 'danger'), { timeoutMs: 10_000, what: 'a danger alert' });
    const ack = await call('POST', `/api/alerts/${alert.id}/ack`, staff, { note: '現地確認に向かう' });
    expect(ack.status).toBe(200);

    const { entries } = (await (await call('GET', '/api/audit?limit=20', admin)).json()) as { entries: { action: string; words: { ja: string; en: string } }[] };
    const acked = entries.find((e) => e.action === 'alert.acknowledge')!;
    expect(acked.words.en).toMatch(/^sato acknowledged 打田駅前アンダーパス 危険 at \d\d:\d\d: 現地確認に向かう$/);
    expect(acked.words.ja).toMatch(/^\d\d:\d\d sato が 打田駅前アンダーパス の危険を確認：現地確認に向かう$/);
    expect(entries.find((e) => e.action === 'closure.create' && /打田駅前アンダーパス/.test(e.words.en))!.words.en).toMatch(/^sato closed the road at 打田駅前アンダーパス \(通行止め\) at \d\d:\d\d: 冠水のため通行止め$/);
    expect(entries.find((e) => e.action === 'closure.lift' && /打田駅前アンダーパス/.test(e.words.ja))!.words.ja).toMatch(/sato が 打田駅前アンダーパス の通行止めを解除/);
    expect(entries.find((e) => e.action === 'closure.create' && /県道打田線/.test(e.words.en))!.words.en).toMatch(/^sato closed the road at 県道打田線 打田駅前〜東田中 \(通行止め\) at \d\d:\d\d: 法面崩落のため$/);
    expect(entries.filter((e) => e.action === 'http.write')).toEqual([]);

    // Recipients and alert settings too.
    const rc = await call('POST', '/api/alert-recipients', staff, { channel: 'email', target: 'bousai@city.test', label: '防災課' });
    expect(rc.status).toBe(201);
    expect((await call('DELETE', `/api/alert-recipients/${((await rc.json()) as { id: string }).id}`, staff)).status).toBe(204);
    expect((await call('PUT', '/api/sensors/uchita-01/alert-settings', technician, { preset: 'road_underpass', thresholds: { caution: 10, warning: 20, danger: 30 } })).status).toBe(200);
    const later = ((await (await call('GET', '/api/audit?limit=5', admin)).json()) as { entries: { action: string; words: { en: string } }[] }).entries;
    expect(later.map((e) => e.words.en).slice(0, 3)).toEqual([
      expect.stringMatching(/^suzuki changed the alert settings of 打田駅前アンダーパス \(road_underpass 10\/20\/30 cm\) at \d\d:\d\d$/),
      expect.stringMatching(/^sato removed alert recipient email 防災課 at \d\d:\d\d$/),
      expect.stringMatching(/^sato added alert recipient email 防災課 at \d\d:\d\d$/),
    ]);
  });
});
