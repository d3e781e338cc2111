import { parseArgs } from 'node:util';
import { ZodError } from 'zod';
import { DomainError } from '../core/errors.ts';
import { loadConfig } from '../config.ts';
import { openMetadataDatabase } from '../storage/metadata-db.ts';
import { createSqliteSensorRegistry } from '../storage/sqlite-sensor-registry.ts';
import { USER_USAGE, runUserCommand } from './user-commands.ts';
import { createCliSensorAdmin } from './sensor-admin.ts';

const USAGE = `usage: kansui <command> [options]

commands:
  sensor add --id ID --name NAME --lat LAT --lon LON
             [--name-en NAME] [--address TEXT] [--address-en TEXT]
             [--caution CM --warning CM --danger CM] [--interval SECONDS]
             [--mount-height-mm MM] [--min-range-mm MM]
             [--kind level|distance|stage] [--stages CM,CM,…]
             [--site road|river]   (river: stage above the gauge datum; the station's
              levels in cm are required, --caution 氾濫注意水位 --warning 避難判断水位 --danger 氾濫危険水位,
              and where set [--standby CM] 水防団待機水位 [--plan-high-water CM] 計画高水位)
             [--dev-eui 16HEX --codec NAME [--json-field distance_mm=PATH|level_cm=PATH|wet_cm=PATH]]
             [--active]
      Register a sensor; prints JSON with its MQTT credentials (password shown once).
      It stays off the public map until its first valid reading (--active: public at once).
  sensor list
      Print every sensor as JSON.
  sensor rotate --id ID
      Issue a new MQTT password (the old one stops working at the next connect).
${USER_USAGE}

Uses DATA_DIR (default ./data), the same as the running service.`;

/** `stdin` reads all of standard input (tests pass their own; default: fd 0). */
type Out = { stdout: (s: string) => void; stderr: (s: string) => void; stdin?: () => string };

function num(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new DomainError('invalid_input', `--${flag}: not a number: ${value}`);
  return n;
}

/** `distance_mm=Distance` → which field of a network server's decoded object holds what (the json codec). */
function parseJsonField(value: string | undefined): { quantity: string; path: string } | undefined {
  if (value === undefined) return undefined;
  const m = /^(distance_mm|level_cm|wet_cm)=(.+)$/.exec(value);
  if (!m) throw new DomainError('invalid_input', `--json-field: expected distance_mm=PATH, level_cm=PATH or wet_cm=PATH, got ${value}`);
  return { quantity: m[1] as string, path: m[2] as string };
}

/** Run one CLI command; returns the exit code. Exported for tests. */
export async function runCli(argv: string[], env: Record<string, string | undefined>, out: Out): Promise<number> {
  const [group, command, ...rest] = argv;
  if (!group || group === '--help' || group === 'help') {
    out.stdout(USAGE + '\n');
    return group ? 0 : 2;
  }
  try {
    const config = loadConfig(env);
    if (group === 'sensor' && command === 'add') {
      const { values: v } = parseArgs({
        args: rest,
        options: {
          id: { type: 'string' }, name: { type: 'string' }, 'name-en': { type: 'string' }, address: { type: 'string' }, 'address-en': { type: 'string' },
          lat: { type: 'string' }, lon: { type: 'string' },
          caution: { type: 'string' }, warning: { type: 'string' }, danger: { type: 'string' },
          // Issue 12: a river gauge's 水防団待機水位 and 計画高水位, where the river administrator set them.
          standby: { type: 'string' }, 'plan-high-water': { type: 'string' },
          interval: { type: 'string' }, 'mount-height-mm': { type: 'string' }, 'min-range-mm': { type: 'string' },
          // LoRaWAN devices and stage sensors (issue 11, docs/devices.md).
          kind: { type: 'string' }, stages: { type: 'string' },
          // Issue 12: a road sensor (default) or a river gauge.
          site: { type: 'string' },
          'dev-eui': { type: 'string' }, codec: { type: 'string' }, 'json-field': { type: 'string' },
          // Issue 12: public at once, instead of after its first valid reading.
          active: { type: 'boolean' },
        },
        strict: true,
      });
      for (const required of ['id', 'name', 'lat', 'lon'] as const) {
        if (v[required] === undefined) throw new DomainError('invalid_input', `--${required} is required`);
      }
      const thresholds = [v.caution, v.warning, v.danger];
      if (thresholds.some((t) => t !== undefined) && thresholds.some((t) => t === undefined)) {
        throw new DomainError('invalid_input', '--caution, --warning and --danger go together');
      }
      if ((v.standby !== undefined || v['plan-high-water'] !== undefined) && v.caution === undefined) {
        throw new DomainError('invalid_input', '--standby and --plan-high-water go with --caution, --warning and --danger');
      }
      const input = {
        id: v.id, name: v.name, nameEn: v['name-en'], address: v.address, addressEn: v['address-en'],
        lat: num(v.lat, 'lat'), lon: num(v.lon, 'lon'),
        thresholds: v.caution !== undefined
          ? {
            caution: num(v.caution, 'caution'), warning: num(v.warning, 'warning'), danger: num(v.danger, 'danger'),
            ...(v.standby !== undefined && { standby: num(v.standby, 'standby') }),
            ...(v['plan-high-water'] !== undefined && { planHighWater: num(v['plan-high-water'], 'plan-high-water') }),
          }
          : undefined,
        intervalS: num(v.interval, 'interval'),
        mountHeightMm: num(v['mount-height-mm'], 'mount-height-mm'),
        minRangeMm: num(v['min-range-mm'], 'min-range-mm'),
        kind: v.kind ?? (v.stages !== undefined ? 'stage' : undefined),
        site: v.site,
        stages: v.stages?.split(',').map((x) => num(x.trim(), 'stages')),
        devEui: v['dev-eui'],
        codec: v.codec,
        jsonField: parseJsonField(v['json-field']),
        commissioning: !v.active,
      };
      const db = openMetadataDatabase(config.DATA_DIR);
      try {
        // The console's application function (issue 16): broker-reserved ids refused, calibration v1, audit entry by `cli`.
        const { sensor, mqtt } = await createCliSensorAdmin(config, db).register(input, { actor: 'cli' });
        out.stdout(JSON.stringify({ ...sensor, mqtt }) + '\n');
      } finally {
        db.close();
      }
      return 0;
    }
    if (group === 'sensor' && command === 'list') {
      const db = openMetadataDatabase(config.DATA_DIR);
      try {
        out.stdout(JSON.stringify(createSqliteSensorRegistry(db).list(), null, 2) + '\n');
      } finally {
        db.close();
      }
      return 0;
    }
    const userResult = runUserCommand(group, command, rest, config, out);
    if (userResult !== undefined) return userResult;
    if (group === 'sensor' && command === 'rotate') {
      const { values: v } = parseArgs({ args: rest, options: { id: { type: 'string' } }, strict: true });
      if (!v.id) throw new DomainError('invalid_input', '--id is required');
      const db = openMetadataDatabase(config.DATA_DIR);
      try {
        const mqtt = await createCliSensorAdmin(config, db).rotate(v.id, { actor: 'cli' });
        out.stdout(JSON.stringify({ id: v.id, mqtt }) + '\n');
      } finally {
        db.close();
      }
      return 0;
    }
    out.stderr(`kansui: unknown command: ${[group, command].filter(Boolean).join(' ')}\n\n${USAGE}\n`);
    return 2;
  } catch (err) {
    if (err instanceof ZodError) {
      out.stderr(`kansui: ${err.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}\n`);
      return 2;
    }
    if (err instanceof DomainError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      out.stderr(`kansui: ${(err as Error).message}\n`);
      return err instanceof DomainError && err.code === 'conflict' ? 3 : 2;
    }
    if ((err as Error).name === 'ConfigError') {
      out.stderr(`kansui: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}
