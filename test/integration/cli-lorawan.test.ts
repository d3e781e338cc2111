import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/kansui.ts';
import { runKansuiCli } from '../helpers/cli.ts';

describe('kansui sensor add: LoRaWAN devices and stage sensors (issue 11)', () => {
  const data = makeTempDir();
  afterAll(() => data.remove());
  const base = ['sensor', 'add', '--name', '地下道', '--lat', '35.68', '--lon', '139.76'];

  it('registers a DevEUI (any case, stored upper case) with its codec; the same DevEUI again is refused (exit 3)', async () => {
    const add = await runKansuiCli([...base, '--id', 'em1', '--mount-height-mm', '1500', '--dev-eui', '24e124713b123456', '--codec', 'milesight-em500-udl'], data.dir);
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ id: 'em1', kind: 'distance', devEui: '24E124713B123456', codec: 'milesight-em500-udl' });
    const again = await runKansuiCli([...base, '--id', 'em2', '--dev-eui', '24E124713B123456', '--codec', 'milesight-em500-udl'], data.dir);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/already registered to sensor em1/);
  });

  it('the json codec takes the field that holds the measurement', async () => {
    const add = await runKansuiCli([...base, '--id', 'js1', '--mount-height-mm', '2000', '--dev-eui', 'A84041000181C8E1', '--codec', 'json', '--json-field', 'distance_mm=Distance'], data.dir);
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ codec: 'json', jsonField: { quantity: 'distance_mm', path: 'Distance' } });
  });

  it('a stage sensor with --stages', async () => {
    const add = await runKansuiCli([...base, '--id', 'st1', '--stages', '10,20,30'], data.dir);
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ kind: 'stage', stages: [10, 20, 30] });
  });

  it.each([
    [['--id', 'b1', '--dev-eui', '24E1'], /16 hex/],
    [['--id', 'b2', '--dev-eui', '24E124713B123499', '--codec', 'acme'], /codec/],
    [['--id', 'b3', '--codec', 'floodnet'], /dev_eui/],
    [['--id', 'b4', '--stages', '20,10'], /rise/],
    [['--id', 'b5', '--dev-eui', '24E124713B123498', '--codec', 'json', '--json-field', 'Distance'], /--json-field/],
  ])('refuses %j with a clear message', async (args, message) => {
    const r = await runKansuiCli([...base, ...args], data.dir);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });
});
