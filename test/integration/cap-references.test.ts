import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSensor } from '../../services/sensors/provision.ts';
import { makeTempDir, startTestKansui, type TestKansui } from '../helpers/kansui.ts';
import { CAP_XSD, xmllint } from '../helpers/xmllint.ts';

/**
 * Issue 10 #15: the CAP messages of one alert link up as CAP 1.2 §3.2.1
 * says: each has its own identifier, stable across fetches and restarts;
 * an Update or Cancel lists every earlier message of the alert in
 * <references> as `sender,identifier,sent`, with `sent` taken from the
 * stored alert timeline.
 */

const MIN = 60_000;
const PUBLIC_URL = 'https://kansui.city.example';

interface CapHead {
  identifier: string;
  sender: string;
  sent: string;
  msgType: string;
  references: string | undefined;
  responseTypes: string[];
}

function capHead(xml: string): CapHead {
  const one = (tag: string) => xml.match(new RegExp(`<${tag}>([^<]*)</${tag}>`))?.[1];
  return {
    identifier: one('identifier') as string,
    sender: one('sender') as string,
    sent: one('sent') as string,
    msgType: one('msgType') as string,
    references: one('references'),
    responseTypes: [...xml.matchAll(/<responseType>([^<]*)<\/responseType>/g)].map((m) => m[1] as string),
  };
}

/** `sender,identifier,sent` of a message (CAP 1.2 §3.2.1 <references>). */
const ref = (h: CapHead) => `${h.sender},${h.identifier},${h.sent}`;

describe('CAP messages of one alert reference each other (issue 10 #15)', () => {
  const data = makeTempDir('kansui-capref-');
  const tmp = makeTempDir('kansui-capref-xml-');
  // A clock moved only by the test, so each stage has its own `sent` second.
  let clock = Date.now();
  const now = () => clock;
  const t0 = clock - 300 * MIN;
  let k: TestKansui;
  let staff: string;

  const start = () => startTestKansui({ PUBLIC_URL }, { dataDir: data.dir, sweepMs: 60_000, now });
  beforeAll(async () => {
    k = await start();
    staff = k.users.issueToken(k.users.create('sato', 'staff', null).id).token;
    registerSensor(k.registry, { id: 'ref-01', name: '打田駅前アンダーパス', nameEn: 'Uchita Sta. underpass', lat: 34.2711, lon: 135.3952, intervalS: 3600 }, clock);
  });
  afterAll(async () => {
    await k?.stop();
    data.remove();
    tmp.remove();
  });

  // Readings 30 min apart: no rate of rise (20-min window, policy.ts), so only level changes make events.
  const submit = (minutes: number, level_cm: number) => k.ingest.submit('ref-01', Buffer.from(JSON.stringify({ ts: t0 + minutes * MIN, level_cm })));
  const alertId = async () => (await (await fetch(`${k.httpUrl}/api/alerts?sensor=ref-01`)).json()).alerts[0].id as string;

  /** Fetch the alert's CAP message twice: it must be the same message both times, and valid CAP 1.2. */
  async function fetchCap(id: string): Promise<{ xml: string; head: CapHead }> {
    const first = await (await fetch(`${k.httpUrl}/api/alerts/${id}/cap`)).text();
    const second = await (await fetch(`${k.httpUrl}/api/alerts/${id}/cap`)).text();
    expect(second).toBe(first);
    const v = await xmllint(first, tmp.dir, CAP_XSD);
    expect(v.output).toContain('validates');
    expect(v.ok).toBe(true);
    return { xml: first, head: capHead(first) };
  }

  const messages: CapHead[] = [];

  it('raised: msgType Alert with no references, the same identifier and sent on every fetch; acknowledging adds no message', async () => {
    await submit(0, 2);
    await submit(30, 24); // warning
    const id = await alertId();
    const { head } = await fetchCap(id);
    messages.push(head);
    expect(head).toMatchObject({ msgType: 'Alert', references: undefined });
    // CAP 1.2 §3.2.1: identifier and sender contain no spaces, commas or restricted characters.
    expect(head.identifier).toMatch(/^[^\s,<&]+$/);
    expect(head.identifier).toContain(id);
    expect(head.sender).toBe('kansui@kansui.city.example'); // PUBLIC_URL's host, the same whichever port served it

    clock += 30_000;
    const ack = await fetch(`${k.httpUrl}/api/alerts/${id}/ack`, { method: 'POST', headers: { Authorization: `Bearer ${staff}`, 'Content-Type': 'application/json' }, body: '{}' });
    expect(ack.status).toBe(200);
    expect((await fetchCap(id)).head).toEqual(head);
  });

  it('escalated: msgType Update, a new identifier, referencing the Alert by its exact sender,identifier,sent', async () => {
    clock += MIN;
    await submit(60, 31); // danger
    const id = await alertId();
    const { head } = await fetchCap(id);
    messages.push(head);
    expect(head.msgType).toBe('Update');
    expect(head.identifier).not.toBe(messages[0]!.identifier);
    expect(head.sender).toBe(messages[0]!.sender);
    expect(head.references).toBe(ref(messages[0]!));
    expect(Date.parse(head.sent) - Date.parse(messages[0]!.sent)).toBeGreaterThanOrEqual(MIN);
  });

  it('resolved: the final message (Cancel, all clear) references both earlier messages; the Atom feed still lists it', async () => {
    clock += MIN;
    await submit(90, 2);
    await submit(120, 2); // below the exit line for 30 min > ALERT_HOLD_S (600 s): resolved
    const id = await alertId();
    const detail = await (await fetch(`${k.httpUrl}/api/alerts/${id}`)).json();
    expect(detail.timeline.map((e: { type: string }) => e.type)).toEqual(['raised', 'acknowledged', 'escalated', 'resolved']);

    const { head } = await fetchCap(id);
    expect(head.msgType).toBe('Cancel');
    expect(head.responseTypes).toEqual(['AllClear', 'AllClear']);
    expect(head.references).toBe(`${ref(messages[0]!)} ${ref(messages[1]!)}`);
    expect(new Set([...messages.map((m) => m.identifier), head.identifier]).size).toBe(3);
    messages.push(head);

    // An aggregator following the Atom feed must see the Cancel, so a just-resolved alert stays listed.
    const atom = await (await fetch(`${k.httpUrl}/api/alerts.atom`)).text();
    expect(atom).toContain(`href="${PUBLIC_URL}/api/alerts/${id}/cap"`);
    expect((await xmllint(atom, tmp.dir)).ok).toBe(true);
  });

  it('identifiers and sent times come from the stored timeline: the same messages after a restart', async () => {
    const id = await alertId();
    const before = (await fetchCap(id)).xml;
    await k.stop();
    k = await start();
    expect((await fetchCap(id)).xml).toBe(before);
  });

  it('the all-active CAP message is the same message on two fetches', async () => {
    clock += MIN;
    await submit(150, 24); // a new episode: a new alert
    const a = await (await fetch(`${k.httpUrl}/api/alerts.cap`)).text();
    clock += 5_000;
    const b = await (await fetch(`${k.httpUrl}/api/alerts.cap`)).text();
    expect(capHead(b)).toEqual(capHead(a));
    expect((await xmllint(a, tmp.dir, CAP_XSD)).ok).toBe(true);
  });
});
