import { describe, expect, it } from 'vitest';
import { CODEC_NAMES, CODECS, findCodec } from '../../services/core/codecs/index.ts';

const hex = (s: string) => Uint8Array.from(s.split(/\s+/).filter(Boolean).map((b) => Number.parseInt(b, 16)));

describe('codecs: vendor test vectors (issue 11)', () => {
  it('milesight-em500-udl: 01 75 64 03 82 1E 00 → battery 100 %, distance 30 mm (Milesight README)', () => {
    expect(CODECS['milesight-em500-udl'].decode({ fPort: 85, bytes: hex('01 75 64 03 82 1E 00') })).toEqual({
      ok: true, kind: 'measurement', batteryPct: 100, distanceMm: 30,
    });
  });

  it('milesight-em310-udl: 01 75 5C 03 82 44 08 04 00 01 → 92 %, 2116 mm, tilted: refused as tilt with the battery kept', () => {
    const r = CODECS['milesight-em310-udl'].decode({ fPort: 85, bytes: hex('01 75 5C 03 82 44 08 04 00 01') });
    expect(r).toMatchObject({ ok: false, reason: 'tilt', battery: { batteryPct: 92 } });
  });

  it('milesight-em310-udl: the same frame upright is 2116 mm', () => {
    expect(CODECS['milesight-em310-udl'].decode({ bytes: hex('01 75 5C 03 82 44 08 04 00 00') })).toEqual({
      ok: true, kind: 'measurement', batteryPct: 92, distanceMm: 2116,
    });
  });

  it('milesight: distance code 0xFFFD is no target, never 65 m or 0 cm', () => {
    expect(CODECS['milesight-em500-udl'].decode({ bytes: hex('01 75 64 03 82 FD FF') })).toMatchObject({ ok: false, reason: 'no_target' });
  });

  it('milesight: the distance alarm record 83 E9 is read as the vendor decoder reads it (÷10)', () => {
    // 83 E9 | distance 0x2710 = 10000 → 1000 | mutation 0x0064 | alarm 1 (threshold)
    expect(CODECS['milesight-em500-udl'].decode({ bytes: hex('83 E9 10 27 64 00 01') })).toEqual({ ok: true, kind: 'measurement', distanceMm: 1000 });
  });

  it('milesight: attribute-only frames (versions, serial) are not readings; truncated and unknown records are refused', () => {
    expect(CODECS['milesight-em500-udl'].decode({ bytes: hex('FF 01 01 FF 09 01 10 FF 0A 01 10') })).toMatchObject({ ok: true, kind: 'not_a_reading' });
    expect(CODECS['milesight-em500-udl'].decode({ bytes: hex('01 75 64 03 82 1E') })).toMatchObject({ ok: false, reason: 'undecodable' });
    expect(CODECS['milesight-em500-udl'].decode({ bytes: hex('07 99 01') })).toMatchObject({ ok: false, reason: 'undecodable' });
  });

  it('dragino-ldds75: 0D 3B 0A EF 00 00 00 01 → 3.387 V, 2799 mm (Dragino manual)', () => {
    expect(CODECS['dragino-ldds75'].decode({ fPort: 2, bytes: hex('0D 3B 0A EF 00 00 00 01') })).toEqual({
      ok: true, kind: 'measurement', batteryV: 3.387, distanceMm: 2799, temperatureC: 0,
    });
  });

  it('dragino-ldds75: battery is masked with 0x3FFF, temperature is signed /10', () => {
    expect(CODECS['dragino-ldds75'].decode({ fPort: 2, bytes: hex('CD 3B 0A EF 00 FF 9C 01') })).toMatchObject({ batteryV: 3.387, temperatureC: -10 });
  });

  it('dragino: distance 0 or sensor flag 0 is no target; beyond the datasheet range is out of range; other ports are not readings', () => {
    expect(CODECS['dragino-ldds75'].decode({ fPort: 2, bytes: hex('0D 3B 00 00 00 00 00 01') })).toMatchObject({ ok: false, reason: 'no_target', battery: { batteryV: 3.387 } });
    expect(CODECS['dragino-ldds75'].decode({ fPort: 2, bytes: hex('0D 3B 0A EF 00 00 00 00') })).toMatchObject({ ok: false, reason: 'no_target' });
    expect(CODECS['dragino-ldds75'].decode({ fPort: 2, bytes: hex('0D 3B 27 10 00 00 00 01') })).toMatchObject({ ok: false, reason: 'distance_out_of_range' });
    expect(CODECS['dragino-ldds20'].decode({ fPort: 2, bytes: hex('0D 3B 0A EF 00 00 00 01') })).toMatchObject({ ok: false, reason: 'distance_out_of_range' });
    expect(CODECS['dragino-ldds20'].decode({ fPort: 2, bytes: hex('0D 3B 05 DC 00 00 00 01') })).toMatchObject({ ok: true, distanceMm: 1500 });
    expect(CODECS['dragino-ldds75'].decode({ fPort: 5, bytes: hex('01 02 03') })).toMatchObject({ ok: true, kind: 'not_a_reading' });
    expect(CODECS['dragino-ldds75'].decode({ fPort: 2, bytes: hex('0D 3B') })).toMatchObject({ ok: false, reason: 'undecodable' });
  });

  it('floodnet: a vector derived from the firmware layout (flags 00, 3300 mV = E4 0C, 1234 mm = D2 04) → 3.3 V, 1234 mm', () => {
    // Derived by us from the 5-byte little-endian layout, not published by FloodNet.
    expect(CODECS.floodnet.decode({ fPort: 2, bytes: hex('00 E4 0C D2 04') })).toEqual({ ok: true, kind: 'measurement', batteryV: 3.3, distanceMm: 1234 });
  });

  it('floodnet: flags 0xFF is a configuration packet, other flags are sensor errors; the first firmware sent 2 bytes on fPort 1', () => {
    expect(CODECS.floodnet.decode({ fPort: 2, bytes: hex('FF 01 02 03 04 05') })).toMatchObject({ ok: true, kind: 'not_a_reading' });
    expect(CODECS.floodnet.decode({ fPort: 2, bytes: hex('01 E4 0C D2 04') })).toMatchObject({ ok: false, reason: 'no_target', battery: { batteryV: 3.3 } });
    expect(CODECS.floodnet.decode({ fPort: 2, bytes: hex('00 E4 0C FD FF') })).toMatchObject({ ok: false, reason: 'no_target' });
    expect(CODECS.floodnet.decode({ fPort: 1, bytes: hex('D2 04') })).toEqual({ ok: true, kind: 'measurement', distanceMm: 1234 });
  });

  it('json: the field named at registration, numbers or strings with units; battery from common names', () => {
    const distance = { json: { quantity: 'distance_mm' as const, path: 'Distance' } };
    expect(CODECS.json.decode({ bytes: new Uint8Array(), object: { Distance: '2799 mm', Bat: '3.387 V' } }, distance)).toEqual({
      ok: true, kind: 'measurement', distanceMm: 2799, batteryV: 3.387,
    });
    expect(CODECS.json.decode({ bytes: new Uint8Array(), object: { data: { level: 12.5 }, battery: 80 } }, { json: { quantity: 'level_cm', path: 'data.level' } })).toEqual({
      ok: true, kind: 'measurement', levelCm: 12.5, batteryPct: 80,
    });
    expect(CODECS.json.decode({ bytes: new Uint8Array(), object: { Distance: 65533 } }, distance)).toMatchObject({ ok: false, reason: 'no_target' });
    expect(CODECS.json.decode({ bytes: new Uint8Array(), object: { Distance: 'n/a' } }, distance)).toMatchObject({ ok: false, reason: 'undecodable' });
    expect(CODECS.json.decode({ bytes: new Uint8Array() }, distance)).toMatchObject({ ok: false, reason: 'undecodable' });
    expect(CODECS.json.decode({ bytes: new Uint8Array(), object: {} })).toMatchObject({ ok: false, reason: 'undecodable' });
  });

  it('every codec is found by its name and no other name is', () => {
    for (const name of CODEC_NAMES) expect(findCodec(name)?.name).toBe(name);
    expect(findCodec('toString')).toBeUndefined();
    expect(findCodec('nope')).toBeUndefined();
  });

  it('no codec throws on arbitrary bytes', () => {
    for (const name of CODEC_NAMES) {
      for (let n = 0; n < 300; n++) {
        const bytes = Uint8Array.from({ length: n % 13 }, (_, i) => (n * 31 + i * 17) & 0xff);
        expect(() => CODECS[name].decode({ fPort: n % 4, bytes, object: { x: n } })).not.toThrow();
      }
    }
  });
});
