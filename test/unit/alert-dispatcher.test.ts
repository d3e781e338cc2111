import { describe, expect, it } from 'vitest';
import type { DeliveryLogEntry } from '../../services/core/alerts/repository.ts';
import { createDispatcher } from '../../services/alerting/dispatcher.ts';
import type { AlertChannel, ChannelKind, DeliveryOutcome, Recipient } from '../../services/core/alerts/channel.ts';
import { sampleNotice } from '../contract/alert-channel.contract.ts';

function recipient(id: string, channel: ChannelKind): Recipient {
  return { id, channel, target: `https://${id}.test/x`, sensors: ['*'], minSeverity: 'caution', kinds: ['flood'], lang: 'ja', source: 'api' };
}

/** A channel whose answers are scripted per call; records when each attempt started. */
function scripted(kind: ChannelKind, answers: (DeliveryOutcome | 'hang')[]): AlertChannel & { starts: number[]; sent: string[] } {
  const starts: number[] = [];
  const sent: string[] = [];
  return {
    kind,
    starts,
    sent,
    send(notice, r, signal) {
      starts.push(performance.now());
      const a = answers.shift() ?? { ok: true };
      if (a === 'hang') {
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
      }
      if (a.ok) sent.push(`${r.id}:${notice.alert.id}:${notice.event}`);
      return Promise.resolve(a);
    },
  };
}

describe('alert dispatcher', () => {
  it('a hung channel never delays another channel, and the hung attempt is abandoned at the timeout', async () => {
    const slow = scripted('webhook', ['hang']);
    const fast = scripted('line', []);
    const log: (DeliveryLogEntry & { t: number })[] = [];
    const d = createDispatcher({ channels: [slow, fast], log: (e) => log.push({ ...e, t: performance.now() }), retry: { attempts: 1, timeoutMs: 300 } });
    const t0 = performance.now();
    d.dispatch(sampleNotice(), [recipient('hook', 'webhook'), recipient('line', 'line')]);
    await d.idle();
    const lineEntry = log.find((e) => e.channel === 'line')!;
    const hookEntry = log.find((e) => e.channel === 'webhook')!;
    expect(lineEntry.ok).toBe(true);
    expect(lineEntry.t - t0).toBeLessThan(100);
    expect(hookEntry).toMatchObject({ ok: false, final: true, error: 'timed out after 300 ms' });
    expect(hookEntry.t - t0).toBeGreaterThanOrEqual(290);
  });

  it('retries transient failures with exponential backoff and logs every attempt', async () => {
    const ch = scripted('webhook', [
      { ok: false, status: 503, error: 'HTTP 503', permanent: false },
      { ok: false, error: 'ECONNREFUSED', permanent: false },
      { ok: true, status: 204 },
    ]);
    const log: DeliveryLogEntry[] = [];
    const d = createDispatcher({ channels: [ch], log: (e) => log.push(e), retry: { attempts: 5, baseDelayMs: 40, maxDelayMs: 1000 } });
    d.dispatch(sampleNotice(), [recipient('hook', 'webhook')]);
    await d.idle();
    expect(log.map((e) => [e.attempt, e.ok, e.final, e.status ?? null])).toEqual([
      [1, false, false, 503],
      [2, false, false, null],
      [3, true, true, 204],
    ]);
    const [a, b, c] = ch.starts as [number, number, number];
    expect(b - a).toBeGreaterThanOrEqual(38);
    expect(c - b).toBeGreaterThanOrEqual(78);
  });

  it('stops at a permanent failure, reports the recipient gone, and gives up after the last attempt', async () => {
    const gone: string[] = [];
    const ch = scripted('webpush', [{ ok: false, status: 410, error: 'HTTP 410', permanent: true }]);
    const log: DeliveryLogEntry[] = [];
    const d = createDispatcher({ channels: [ch], log: (e) => log.push(e), onGone: (r) => gone.push(r.id), retry: { baseDelayMs: 1 } });
    d.dispatch(sampleNotice(), [recipient('sub', 'webpush')]);
    await d.idle();
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ ok: false, final: true, status: 410, target: 'https://sub.test/…' });
    expect(gone).toEqual(['sub']);

    const failing = scripted('email', [1, 2, 3].map(() => ({ ok: false as const, error: 'HTTP 500', permanent: false })));
    const log2: DeliveryLogEntry[] = [];
    const d2 = createDispatcher({ channels: [failing], log: (e) => log2.push(e), retry: { attempts: 3, baseDelayMs: 1 } });
    d2.dispatch(sampleNotice(), [recipient('mail', 'email')]);
    await d2.idle();
    expect(log2.map((e) => e.final)).toEqual([false, false, true]);
  });

  it("keeps a recipient's notices about one alert in order, without holding back other alerts or recipients", async () => {
    const ch = scripted('webhook', [{ ok: false, error: 'HTTP 503', permanent: false }]);
    const d = createDispatcher({ channels: [ch], log: () => {}, retry: { baseDelayMs: 30 } });
    d.dispatch(sampleNotice('raised', { id: 'a1' }), [recipient('hook', 'webhook')]);
    d.dispatch(sampleNotice('escalated', { id: 'a1' }), [recipient('hook', 'webhook'), recipient('other', 'webhook')]);
    d.dispatch(sampleNotice('raised', { id: 'a2' }), [recipient('hook', 'webhook')]);
    await d.idle();
    // hook's first attempt for a1 failed and was retried; its escalation waited for it.
    expect(ch.sent.filter((s) => s.startsWith('hook:a1'))).toEqual(['hook:a1:raised', 'hook:a1:escalated']);
    const order = ch.sent;
    expect(order.indexOf('other:a1:escalated')).toBeLessThan(order.indexOf('hook:a1:raised'));
    expect(order.indexOf('hook:a2:raised')).toBeLessThan(order.indexOf('hook:a1:raised'));
  });
});
