import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../services/core/alerts/alert.ts';
import { composeNotice, type AlertChannel, type AlertNotice, type Recipient } from '../../services/core/alerts/channel.ts';
import type { Fault, Received } from '../helpers/alert-receivers.ts';

/** What each adapter's test supplies: the channel, a recipient on the loopback receiver, and the receiver. */
export interface ChannelHarness {
  channel: AlertChannel;
  /** The same channel under the default outbound policy (public addresses only): the loopback receiver is off limits. */
  refusedChannel: () => AlertChannel;
  recipient: (lang?: 'ja' | 'en') => Recipient;
  receiver: {
    received: Received[];
    fault(f: Fault): void;
    waitForCount(n: number, timeoutMs?: number): Promise<Received[]>;
  };
  /** Failure the receiver can script that the channel must report as permanent (no retry can help). */
  permanentFault: Fault;
  /** Failure it must report as worth retrying. */
  transientFault: Fault;
  close(): Promise<void>;
}

const T = Date.UTC(2026, 6, 1, 0, 30, 0);

export function sampleNotice(event: AlertNotice['event'] = 'raised', over: Partial<Alert> = {}): AlertNotice {
  const alert: Alert = {
    id: 'al_contract1', sensorId: 'kinokawa-01', kind: 'flood', severity: 'warning', peakSeverity: 'warning', cause: 'level',
    state: 'raised', rising: false, levelCm: 23.5, observedAt: T, batteryV: undefined, raisedAt: T, updatedAt: T,
    acknowledgedAt: undefined, acknowledgedBy: undefined, ackNote: undefined, resolvedAt: undefined, resolvedReason: undefined, ...over,
  };
  return composeNotice({
    event, alert, timeZone: 'Asia/Tokyo', baseUrl: 'http://kansui.example',
    sensor: { id: 'kinokawa-01', name: '打田駅前アンダーパス', nameEn: 'Uchita Station underpass', lat: 34.2711, lon: 135.3952, thresholds: { caution: 10, warning: 20, danger: 30 } },
  });
}

const signal = () => AbortSignal.timeout(10_000);

/**
 * The one contract every AlertChannel adapter passes (STYLE.md: one port,
 * one shared suite, as MQTT.js's abstract_store). Each run talks to a real
 * loopback server speaking the channel's protocol.
 */
export function describeAlertChannelContract(name: string, setup: () => Promise<ChannelHarness>): void {
  describe(`AlertChannel contract: ${name}`, () => {
    let h: ChannelHarness;
    beforeAll(async () => {
      h = await setup();
    });
    afterAll(async () => {
      await h?.close();
    });

    it('delivers one notice that carries the sensor, the level name and the reading, in the recipient language', async () => {
      const before = h.receiver.received.length;
      const outcome = await h.channel.send(sampleNotice(), h.recipient('ja'), signal());
      expect(outcome).toMatchObject({ ok: true });
      const got = (await h.receiver.waitForCount(before + 1))[before] as Received;
      expect(got.text).toContain('打田駅前アンダーパス');
      expect(got.text).toContain('警戒');
      expect(got.text).toContain('23.5 cm');
      if (got.json?.alert) expect(got.json.alert).toMatchObject({ sensor_id: 'kinokawa-01', level_name: '警戒', level_cm: 23.5 });
    });

    it('speaks English to an English recipient', async () => {
      const before = h.receiver.received.length;
      const outcome = await h.channel.send(sampleNotice('escalated', { severity: 'danger', peakSeverity: 'danger', levelCm: 31 }), h.recipient('en'), signal());
      expect(outcome.ok).toBe(true);
      const got = (await h.receiver.waitForCount(before + 1))[before] as Received;
      expect(got.text).toContain('Uchita Station underpass');
      expect(got.text).toMatch(/Danger|DANGER/);
    });

    it('reports a transient receiver failure as worth retrying, then succeeds on the next attempt', async () => {
      h.receiver.fault(h.transientFault);
      const first = await h.channel.send(sampleNotice('raised', { id: 'al_contract2' }), h.recipient(), signal());
      expect(first).toMatchObject({ ok: false, permanent: false });
      const before = h.receiver.received.length;
      const second = await h.channel.send(sampleNotice('raised', { id: 'al_contract2' }), h.recipient(), signal());
      expect(second.ok).toBe(true);
      await h.receiver.waitForCount(before + 1);
    });

    it('reports a permanent refusal as permanent', async () => {
      h.receiver.fault(h.permanentFault);
      const outcome = await h.channel.send(sampleNotice('raised', { id: 'al_contract3' }), h.recipient(), signal());
      expect(outcome).toMatchObject({ ok: false, permanent: true });
    });

    it('under the default outbound policy refuses the loopback receiver before connecting: permanent, a class in the log, nothing received (issue 10)', async () => {
      const refused = h.refusedChannel();
      try {
        const before = h.receiver.received.length;
        const outcome = await refused.send(sampleNotice('raised', { id: 'al_contract5' }), h.recipient(), signal());
        expect(outcome).toMatchObject({ ok: false, permanent: true, error: 'outbound_refused:loopback' });
        expect(h.receiver.received.length).toBe(before);
      } finally {
        await refused.close?.();
      }
    });

    it('gives up promptly when the attempt is aborted (a hung receiver cannot hold the channel)', async () => {
      h.receiver.fault({ times: 1, hang: true });
      const started = Date.now();
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new Error('attempt timed out')), 300);
      const result = await h.channel.send(sampleNotice('raised', { id: 'al_contract4' }), h.recipient(), controller.signal).then(
        (o) => o,
        (err: Error) => ({ ok: false as const, error: err.message, permanent: false }),
      );
      clearTimeout(timer);
      expect(result.ok).toBe(false);
      expect(Date.now() - started).toBeLessThan(5_000);
    });
  });
}
