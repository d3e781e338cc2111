import { describe, expect, it } from 'vitest';
import { createFrameWatcher } from '../../services/core/mqtt-frame.ts';
import { createRateLimiter } from '../../services/core/token-bucket.ts';
import { clientIdBelongsTo } from '../../services/core/topic.ts';
import { encodeLength } from '../../services/broker/mqtt-wire.ts';

describe('createRateLimiter (token bucket)', () => {
  it('allows a burst, then refills at the rate, never above the burst', () => {
    const limit = createRateLimiter({ ratePerMin: 60, burst: 3 });
    const t = 1_000_000;
    expect([1, 2, 3, 4].map(() => limit.take('a', t))).toEqual([true, true, true, false]);
    expect(limit.take('b', t)).toBe(true); // buckets are per key
    expect(limit.take('a', t + 999)).toBe(false);
    expect(limit.take('a', t + 1000)).toBe(true); // 1/s
    // An hour idle refills to the burst, not to 3,600.
    const later = t + 3_600_000;
    expect([1, 2, 3, 4].map(() => limit.take('a', later))).toEqual([true, true, true, false]);
    // A clock that steps back does not mint tokens.
    expect(limit.take('a', later - 10_000)).toBe(false);
    limit.forget('a');
    expect(limit.size).toBe(1);
  });

  it('says how long until the next token', () => {
    const limit = createRateLimiter({ ratePerMin: 60, burst: 1 });
    expect(limit.waitMs('a', 0)).toBe(0);
    limit.take('a', 0);
    expect(limit.waitMs('a', 0)).toBe(1000);
    expect(limit.waitMs('a', 400)).toBe(600);
  });

  it('with maxKeys drops the least recently used bucket, never everyone else\'s', () => {
    const limit = createRateLimiter({ ratePerMin: 1, burst: 1, maxKeys: 3 });
    expect(limit.take('victim', 0)).toBe(true);
    expect(limit.take('victim', 1)).toBe(false); // drained
    // An attacker sprays fresh keys; the victim stays active in between.
    for (let i = 0; i < 100; i++) {
      limit.take(`spray-${i}`, 2 + i);
      if (i % 2 === 0) expect(limit.take('victim', 2 + i)).toBe(false); // still drained, still remembered
    }
    expect(limit.size).toBe(3);
  });
});

describe('createFrameWatcher (MQTT 3.1.1 §2.2.3 fixed header)', () => {
  const publish = (bodyLength: number) => Buffer.concat([Buffer.from([0x30, ...encodeLength(bodyLength)]), Buffer.alloc(bodyLength, 1)]);

  it('passes packets up to the cap, split anywhere, and skips their bodies', () => {
    const w = createFrameWatcher(16 * 1024);
    const stream = Buffer.concat([publish(0), publish(127), publish(128), publish(16 * 1024), Buffer.from([0xc0, 0x00])]);
    for (let i = 0; i < stream.length; i += 7) expect(w.feed(stream.subarray(i, i + 7))).toEqual({ ok: true });
  });

  it('refuses a packet that declares more than the cap as soon as its length is read', () => {
    const w = createFrameWatcher(16 * 1024);
    expect(w.feed(Buffer.from([0x10, 0xff]))).toEqual({ ok: true }); // length not known yet, but > 127
    expect(w.feed(Buffer.from([0xff]))).toEqual({ ok: true }); // 16,383 so far
    expect(w.feed(Buffer.from([0x01]))).toEqual({ ok: false, reason: 'packet_too_large', declared: 127 + 127 * 128 + 128 * 128 });
    expect(w.feed(Buffer.from([0x00])).ok).toBe(false); // stays refused
    expect(createFrameWatcher(100).feed(publish(101).subarray(0, 2))).toMatchObject({ ok: false, declared: 101 });
  });

  it('refuses a Remaining Length longer than four bytes', () => {
    expect(createFrameWatcher(Number.MAX_SAFE_INTEGER).feed(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x80, 0x01]))).toEqual({ ok: false, reason: 'malformed_length' });
  });
});

describe('clientIdBelongsTo', () => {
  it("accepts the sensor's id and '<id>/…', nothing another sensor could also claim", () => {
    expect(clientIdBelongsTo('kinokawa', 'kinokawa')).toBe(true);
    expect(clientIdBelongsTo('kinokawa', 'kinokawa/tool')).toBe(true);
    expect(clientIdBelongsTo('kinokawa', 'kinokawa/')).toBe(false);
    expect(clientIdBelongsTo('kinokawa', 'kinokawa-01')).toBe(false);
    expect(clientIdBelongsTo('kinokawa-01', 'kinokawa')).toBe(false);
    expect(clientIdBelongsTo('kinokawa', '')).toBe(false);
    expect(clientIdBelongsTo('kinokawa', 'mqttjs_1a2b')).toBe(false);
  });
});
