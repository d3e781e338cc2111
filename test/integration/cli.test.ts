import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/kansui.ts';
import { runKansuiCli } from '../helpers/cli.ts';

describe('kansui CLI', () => {
  const data = makeTempDir();
  afterAll(() => data.remove());

  it('adds a sensor with thresholds, interval and distance calibration, and lists it; the password is not stored in clear', async () => {
    const add = await runKansuiCli(
      ['sensor', 'add', '--id', 'r1', '--name', '紀の川 船戸', '--lat', '34.2702', '--lon', '135.3601',
       '--caution', '150', '--warning', '250', '--danger', '350', '--interval', '300', '--mount-height-mm', '6000', '--min-range-mm', '300'],
      data.dir,
    );
    expect(add.code).toBe(0);
    const created = JSON.parse(add.stdout);
    expect(created).toMatchObject({ id: 'r1', kind: 'distance', intervalS: 300, mountHeightMm: 6000, minRangeMm: 300, thresholds: { caution: 150, warning: 250, danger: 350 } });
    expect(created.mqtt.username).toBe('r1');
    const list = await runKansuiCli(['sensor', 'list'], data.dir);
    expect(list.code).toBe(0);
    const sensors = JSON.parse(list.stdout);
    expect(sensors.map((s: { id: string }) => s.id)).toEqual(['r1']);
    expect(list.stdout).not.toContain(created.mqtt.password);
  });

  it.each([
    [['sensor', 'add', '--name', 'x', '--lat', '1', '--lon', '1'], /--id is required/],
    [['sensor', 'add', '--id', 'a/b', '--name', 'x', '--lat', '1', '--lon', '1'], /id/],
    [['sensor', 'add', '--id', 'z', '--name', 'x', '--lat', '95', '--lon', '1'], /lat/],
    [['sensor', 'add', '--id', 'z', '--name', 'x', '--lat', 'north', '--lon', '1'], /--lat: not a number/],
    [['sensor', 'add', '--id', 'z', '--name', 'x', '--lat', '1', '--lon', '1', '--caution', '5'], /go together/],
    [['sensor', 'add', '--id', 'z', '--name', 'x', '--lat', '1', '--lon', '1', '--colour', 'red'], /colour/],
    [['sensor', 'fly'], /unknown command/],
  ])('refuses %j with a clear message and a non-zero exit', async (args, message) => {
    const r = await runKansuiCli(args, data.dir);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  it('refuses a duplicate id (exit 3)', async () => {
    const r = await runKansuiCli(['sensor', 'add', '--id', 'r1', '--name', 'again', '--lat', '1', '--lon', '1'], data.dir);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/already exists/);
  });
});
