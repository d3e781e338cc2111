import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODEC_NAMES } from '../../services/core/codecs/index.ts';
import { consoleFetch, createTestToken } from '../helpers/console.ts';
import { startTestKansui, type TestKansui } from '../helpers/kansui.ts';

describe('POST/PATCH /api/sensors: DevEUI, codec and stages (issue 11)', () => {
  let k: TestKansui;
  let token: string;
  beforeAll(async () => {
    k = await startTestKansui();
    token = createTestToken(k, 'api-tech', 'technician');
  });
  afterAll(() => k?.dispose());
  const base = { name: '地下道', lat: 35.68, lon: 139.76 };

  it('registers a LoRaWAN device (a distance sensor by its codec, even before calibration); a DevEUI is unique in any case', async () => {
    const a = await consoleFetch(k, 'POST', '/api/sensors', { token, body: { ...base, id: 'lw-a', devEui: 'a84041000181c8e1', codec: 'dragino-ldds75' } });
    expect(a.status).toBe(201);
    expect(await a.json()).toMatchObject({ devEui: 'A84041000181C8E1', codec: 'dragino-ldds75', kind: 'distance' });
    const b = await consoleFetch(k, 'POST', '/api/sensors', { token, body: { ...base, id: 'lw-b', devEui: 'A84041000181C8E1', codec: 'dragino-ldds75' } });
    expect(b.status).toBe(409);
    expect((await b.json()).error.message).toMatch(/lw-a/);
    expect(k.registry.get('lw-b')).toBeUndefined();
  });

  it('PATCH changes the codec or the device, never to a DevEUI another sensor holds; a stage sensor gets its stages', async () => {
    expect((await consoleFetch(k, 'POST', '/api/sensors', { token, body: { ...base, id: 'lw-c', devEui: 'A84041000181C8E2', codec: 'dragino-ldds75' } })).status).toBe(201);
    const codec = await consoleFetch(k, 'PATCH', '/api/sensors/lw-c', { token, body: { codec: 'dragino-ldds20' } });
    expect(codec.status).toBe(200);
    expect(await codec.json()).toMatchObject({ codec: 'dragino-ldds20' });
    expect((await consoleFetch(k, 'PATCH', '/api/sensors/lw-c', { token, body: { devEui: 'a84041000181c8e1' } })).status).toBe(409);
    const replaced = await consoleFetch(k, 'PATCH', '/api/sensors/lw-c', { token, body: { devEui: 'A84041000181C8E3' } });
    expect(await replaced.json()).toMatchObject({ devEui: 'A84041000181C8E3' });
    expect((await consoleFetch(k, 'POST', '/api/sensors', { token, body: { ...base, id: 'st-1', kind: 'stage', stages: [10, 20, 30], commissioning: false } })).status).toBe(201); // public before its first reading (issue 12)
    expect((await consoleFetch(k, 'PATCH', '/api/sensors/st-1', { token, body: { stages: [5, 15] } })).status).toBe(200);
    expect((await consoleFetch(k, 'PATCH', '/api/sensors/st-1', { token, body: { stages: null } })).status).toBe(400);
    const geo = await (await fetch(`${k.httpUrl}/api/sensors`)).json();
    expect(geo.features.find((f: { id: string }) => f.id === 'st-1').properties).toMatchObject({ kind: 'stage', stages: [5, 15] });
  });

  it("the console form offers exactly the codecs the core knows", () => {
    const src = readFileSync(new URL('../../web/console/sensor-form.js', import.meta.url), 'utf8');
    const list = /const CODECS = (\[[^\]]*\]);/.exec(src)?.[1];
    expect(JSON.parse(list!.replaceAll("'", '"'))).toEqual(CODEC_NAMES);
  });
});
