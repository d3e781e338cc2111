import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSensor } from '../../services/sensors/provision.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { lineEvent, lineUserId, postWebhook, startLineApiServer, type LineApiServer } from '../helpers/line-api-server.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * Residents' LINE conversation (issue 14) through the real service over real
 * HTTP: webhooks signed exactly as LINE signs them, answers checked at a
 * LINE-API-shaped server on loopback.
 */
const SECRET = 'test-channel-secret-0123456789ab';
const TOKEN = 'test-channel-access-token';
let line: LineApiServer;
let k: TestKansui;
let hook: string;

beforeAll(async () => {
  line = await startLineApiServer(TOKEN);
  k = await startTestKansui({
    LINE_CHANNEL_TOKEN: TOKEN,
    LINE_CHANNEL_SECRET: SECRET,
    LINE_API_BASE: line.baseUrl,
    ALERT_ALLOW_PRIVATE_TARGETS: `127.0.0.1:${line.port}`,
    PUBLIC_URL: 'https://kansui.city.example',
    LINE_AREAS: '打田,粉河',
    LINE_LOCATION_RADIUS_M: '500',
  });
  const now = Date.now();
  registerSensor(k.registry, { id: 'kinokawa-01', name: '打田駅前アンダーパス', nameEn: 'Uchita Station Underpass', lat: 34.2711, lon: 135.3952 }, now);
  registerSensor(k.registry, { id: 'kinokawa-02', name: '粉河駅東', nameEn: 'Kokawa Station East', lat: 34.28, lon: 135.41 }, now);
  registerSensor(k.registry, { id: 'kinokawa-03', name: '打田中学校前', lat: 34.272, lon: 135.396 }, now);
  // Installed but not commissioned (issue 12): off the public map, so residents cannot find or follow it on LINE either.
  registerSensor(k.registry, { id: 'kinokawa-04', name: '打田新設アンダーパス', lat: 34.2712, lon: 135.3953, commissioning: true }, now);
  hook = `${k.httpUrl}/api/line/webhook`;
  await k.line?.idle(); // the quota read at start is done
});

/** What residents saw, written to test-results/line-conversation.txt for docs/line.md. */
const transcript: string[] = [];

afterAll(async () => {
  mkdirSync('test-results', { recursive: true });
  writeFileSync('test-results/line-conversation.txt', transcript.join('\n') + '\n');
  await k?.dispose();
  await line?.close();
});

async function say(userId: string, e: Record<string, unknown> & { type: string }, opts?: { redelivery?: boolean; webhookEventId?: string }) {
  const ev = lineEvent(line, userId, e, opts);
  const res = await postWebhook(hook, SECRET, [ev]);
  expect(res.status).toBe(200);
  await (k.line as NonNullable<TestKansui['line']>).idle();
  const said = e.type === 'message' ? ((e.message as { text?: string }).text ?? '📍 (location)') : e.type === 'postback' ? `[button] ${(e.postback as { data: string }).data}` : `(${e.type})`;
  transcript.push(`${userId === lineUserId(2) ? 'resident (en)' : 'resident'}: ${said}`);
  const answer = line.replies.get(ev.replyToken as string)?.[0];
  if (answer) {
    transcript.push(...answer.text.split('\n').map((l: string) => `    kansui: ${l}`));
    if (answer.quickReply) transcript.push(`    buttons: ${answer.quickReply.items.map((i: any) => `[${i.action.label}]`).join(' ')}`);
  }
  return ev;
}
const text = (t: string) => ({ type: 'message', message: { id: '1', type: 'text', text: t } });
const last = (userId: string) => line.inbox.get(userId)?.at(-1) ?? '';
const lastReply = (ev: { replyToken?: string }) => line.replies.get(ev.replyToken as string)?.[0];

describe('LINE webhook signature', () => {
  it('refuses a missing or wrong X-Line-Signature with 401 and changes nothing', async () => {
    const u = lineUserId(0xbad);
    const ev = lineEvent(line, u, { type: 'follow' });
    const before = line.calls.length;
    expect((await postWebhook(hook, SECRET, [ev], null)).status).toBe(401);
    expect((await postWebhook(hook, 'another-secret-of-the-same-size!', [ev])).status).toBe(401);
    expect((await postWebhook(hook, SECRET, [ev], 'AAAA')).status).toBe(401);
    await k.line?.idle();
    expect(line.calls.length).toBe(before);
    expect(k.line?.repo.langOf(u)).toBeUndefined();
  });

  it('answers 200 to LINE’s verify call (no events)', async () => {
    expect((await postWebhook(hook, SECRET, [])).status).toBe(200);
  });

  it('takes a batch of events larger than the 64 KiB API body cap, and caps unsigned bodies at 1 MiB', async () => {
    // LINE may put many residents' events in one POST; all of them must be handled.
    const users = Array.from({ length: 150 }, (_, i) => lineUserId(0xb000 + i));
    const events = users.map((u) => lineEvent(line, u, { type: 'message', message: { id: '1', type: 'text', text: '粉河'.padEnd(300, ' ') } }));
    const body = JSON.stringify({ destination: 'U0', events });
    expect(Buffer.byteLength(body)).toBeGreaterThan(64 * 1024);
    expect((await postWebhook(hook, SECRET, events)).status).toBe(200);
    await k.line?.idle();
    for (const ev of events) expect(line.replies.get(ev.replyToken as string)?.[0]?.text, 'every event in the batch answered').toContain('粉河駅東');

    // Refused on its Content-Length, before a byte of the body is read.
    const huge = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(hook, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Line-Signature': 'AAAA', 'Content-Length': String(2 * 1024 * 1024) } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode);
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(huge).toBe(413);
  });
});

describe('LINE conversation', () => {
  const ja = lineUserId(1);
  const en = lineUserId(2);

  it('follow: a welcome in the user’s language with the map link, how to stop, and area / location buttons', async () => {
    const ev = await say(ja, { type: 'follow' });
    const m = lastReply(ev);
    expect(m.text).toContain('友だち追加ありがとうございます');
    expect(m.text).toContain('https://kansui.city.example/');
    expect(m.text).toContain('全て解除');
    expect(m.quickReply.items.map((i: any) => i.action.label)).toEqual(['現在地の近く', '打田', '粉河']);
    line.setLanguage(en, 'en');
    const ev2 = await say(en, { type: 'follow' });
    expect(lastReply(ev2).text).toMatch(/^Thank you for adding us/);
    expect(k.line?.repo.langOf(en)).toBe('en');
  });

  it('a part of a name lists matching sensors with their status and a subscribe button each', async () => {
    const ev = await say(ja, text('打田'));
    const m = lastReply(ev);
    expect(m.text).toContain('打田駅前アンダーパス（平常）');
    expect(m.text).toContain('打田中学校前（平常）');
    expect(m.text).not.toContain('粉河');
    expect(m.text).toContain('https://kansui.city.example/?sensor=kinokawa-01');
    expect(m.quickReply.items.map((i: any) => i.action.data)).toEqual(['a=sub&s=kinokawa-01', 'a=sub&s=kinokawa-03']);
    expect(m.text).not.toContain('打田新設');
  });

  it('a sensor not yet public cannot be followed, by name or by a hand-made postback', async () => {
    const u = lineUserId(0xc0);
    expect(lastReply(await say(u, text('登録 kinokawa-04'))).text).not.toContain('登録しました');
    await say(u, { type: 'postback', postback: { data: 'a=sub&s=kinokawa-04' } });
    expect(k.line?.repo.subscriptionsOf(u)).toEqual([]);
  });

  it('the subscribe button (postback) subscribes at 警戒 by default; typed 登録 works too; 一覧 lists; レベル changes the level', async () => {
    let ev = await say(ja, { type: 'postback', postback: { data: 'a=sub&s=kinokawa-01' } });
    expect(lastReply(ev).text).toContain('登録しました：打田駅前アンダーパス');
    ev = await say(ja, text('登録 粉河駅東'));
    expect(lastReply(ev).text).toContain('登録しました：粉河駅東');
    expect(k.line?.repo.subscriptionsOf(ja)).toEqual([
      { userId: ja, sensorId: 'kinokawa-01', minLevel: 'warning' },
      { userId: ja, sensorId: 'kinokawa-02', minLevel: 'warning' },
    ]);
    ev = await say(ja, text('レベル 打田駅前アンダーパス 危険'));
    expect(lastReply(ev).text).toContain('通知レベルを変更しました');
    ev = await say(ja, { type: 'postback', postback: { data: 'a=level&s=kinokawa-02&l=caution' } });
    ev = await say(ja, text('一覧'));
    expect(lastReply(ev).text).toBe('登録中：\n・打田駅前アンダーパス（危険以上）\n・粉河駅東（注意以上）');
  });

  it('English users: English commands and answers', async () => {
    let ev = await say(en, text('subscribe Uchita Station Underpass'));
    expect(lastReply(ev).text).toMatch(/^Subscribed: Uchita Station Underpass/);
    ev = await say(en, text('list'));
    expect(lastReply(ev).text).toBe('Your subscriptions:\n・Uchita Station Underpass (Warning and above)');
    ev = await say(en, text('日本語'));
    expect(k.line?.repo.langOf(en)).toBe('ja');
    await say(en, text('English'));
    expect(k.line?.repo.langOf(en)).toBe('en');
  });

  it('解除 and 全て解除 unsubscribe', async () => {
    let ev = await say(ja, text('解除 粉河'));
    expect(lastReply(ev).text).toBe('解除しました：粉河駅東');
    ev = await say(ja, text('全て解除'));
    expect(lastReply(ev).text).toBe('解除しました：打田駅前アンダーパス');
    expect(k.line?.repo.subscriptionsOf(ja)).toEqual([]);
  });

  it('a location subscribes to the sensors within the radius', async () => {
    const ev = await say(ja, { type: 'message', message: { id: '2', type: 'location', title: '', address: '', latitude: 34.2713, longitude: 135.3955 } });
    expect(k.line?.repo.subscriptionsOf(ja).map((s) => s.sensorId)).toEqual(['kinokawa-01', 'kinokawa-03']);
    expect(lastReply(ev).text).toContain('打田中学校前（警戒以上）');
  });

  it('a redelivered event (same webhookEventId) is handled once', async () => {
    const u = lineUserId(3);
    await say(u, { type: 'follow' }, { webhookEventId: '01HREDELIVERED0000000000001' });
    const replies = line.calls.filter((c) => c.path === '/v2/bot/message/reply').length;
    await say(u, { type: 'follow' }, { webhookEventId: '01HREDELIVERED0000000000001', redelivery: true });
    expect(line.calls.filter((c) => c.path === '/v2/bot/message/reply').length).toBe(replies);
  });

  it('unfollow deletes everything kansui holds for the user', async () => {
    await say(ja, { type: 'unfollow' });
    expect(k.line?.repo.langOf(ja)).toBeUndefined();
    expect(k.line?.repo.subscriptionsOf(ja)).toEqual([]);
    const rows = k.db.prepare("SELECT count(*) AS n FROM line_users WHERE user_id = ?").get(ja) as { n: number };
    expect(rows.n).toBe(0);
    expect((k.db.prepare("SELECT count(*) AS n FROM line_subscriptions WHERE user_id = ?").get(ja) as { n: number }).n).toBe(0);
  });

  it('shows the quota on /metrics', async () => {
    line.quota.value = 5000;
    line.quota.totalUsage = 1234;
    await k.line?.readQuota();
    const metrics = await waitFor(async () => {
      const t = await (await fetch(`${k.httpUrl}/metrics`)).text();
      return t.includes('kansui_line_quota_used_messages 1234') ? t : undefined;
    });
    expect(metrics).toContain('kansui_line_quota_messages 5000');
    expect(metrics).toMatch(/kansui_line_residents\{what="users"\} \d+/);
  });
});
