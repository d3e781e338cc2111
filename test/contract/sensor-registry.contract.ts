import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SensorRegistry } from '../../services/core/ports.ts';
import { createSensor } from '../../services/core/sensor.ts';
import { codeOf } from '../helpers/domain-error.ts';

export interface OpenedRegistry {
  registry: SensorRegistry;
  /** A second registry on the same data (another connection, as the CLI in another process); durable adapters only. */
  reopen?: () => SensorRegistry;
  close: () => void;
}

const sensor = (id: string, extra: Record<string, unknown> = {}, at = 1_000) => createSensor({ id, name: `名前 ${id}`, lat: 34.2, lon: 135.1, ...extra }, at);


/** One contract for every SensorRegistry adapter (issue 16; the pattern of reading-store.contract.ts). */
export function describeSensorRegistryContract(h: { name: string; open: () => OpenedRegistry }) {
  describe(`SensorRegistry contract: ${h.name}`, () => {
    let opened: OpenedRegistry;
    let registry: SensorRegistry;
    beforeEach(() => {
      opened = h.open();
      registry = opened.registry;
    });
    afterEach(() => opened.close());

    it('creates, gets and lists sorted by id; an unknown id is undefined', () => {
      const b = sensor('b-2');
      const a = sensor('a-1', { mountHeightMm: 2000 });
      const c = sensor('B-9');
      registry.create(b, { passwordHash: 'hb' });
      registry.create(a, { passwordHash: 'ha' });
      registry.create(c, { passwordHash: 'hc' });
      expect(registry.list().map((s) => s.id)).toEqual(['B-9', 'a-1', 'b-2']);
      expect(registry.get('a-1')).toEqual(a);
      expect(registry.get('a-1')?.kind).toBe('distance');
      expect(registry.get('nope')).toBeUndefined();
      expect(registry.getCredential('a-1')).toEqual({ passwordHash: 'ha' });
      expect(registry.getCredential('nope')).toBeUndefined();
    });

    it('refuses a second sensor with the same id (conflict) and keeps the first and its credential', () => {
      registry.create(sensor('s-1'), { passwordHash: 'h1' });
      expect(codeOf(() => registry.create(sensor('s-1', { name: 'other' }), { passwordHash: 'h2' }))).toBe('conflict');
      expect(registry.get('s-1')?.name).toBe('名前 s-1');
      expect(registry.getCredential('s-1')).toEqual({ passwordHash: 'h1' });
      expect(registry.list()).toHaveLength(1);
    });

    it('updates by merging, keeps id and createdAt, validates, and says not_found for an unknown id', () => {
      registry.create(sensor('s-1'), { passwordHash: 'h' });
      const next = registry.update('s-1', { name: '新しい', state: 'maintenance', updatedAt: 5_000, thresholds: { caution: 5, warning: 15, danger: 25 } });
      expect(next).toMatchObject({ id: 's-1', name: '新しい', state: 'maintenance', createdAt: 1_000, updatedAt: 5_000, thresholds: { caution: 5, warning: 15, danger: 25 } });
      expect(registry.get('s-1')).toEqual(next);
      expect(registry.list()).toEqual([next]);
      expect(() => registry.update('s-1', { thresholds: { caution: 30, warning: 20, danger: 10 } })).toThrow();
      expect(registry.get('s-1')).toEqual(next);
      expect(codeOf(() => registry.update('nope', { name: 'x' }))).toBe('not_found');
    });

    it('an update replaces the object of that sensor only; others keep theirs (the snapshot compares identity)', () => {
      registry.create(sensor('s-1'), { passwordHash: 'h' });
      registry.create(sensor('s-2'), { passwordHash: 'h' });
      const [one, two] = registry.list();
      registry.update('s-2', { name: 'x' });
      const [one2, two2] = registry.list();
      expect(one2).toBe(one);
      expect(two2).not.toBe(two);
      expect(registry.refresh()).toBe(false);
      expect(registry.list()[0]).toBe(one);
    });

    it('replaces and revokes credentials; not_found for an unknown sensor', () => {
      registry.create(sensor('s-1'), { passwordHash: 'h1' });
      registry.setCredential('s-1', { passwordHash: 'h2' });
      expect(registry.getCredential('s-1')).toEqual({ passwordHash: 'h2' });
      registry.setCredential('s-1', null);
      expect(registry.getCredential('s-1')).toBeUndefined();
      expect(registry.get('s-1')).toBeDefined();
      expect(codeOf(() => registry.setCredential('nope', { passwordHash: 'x' }))).toBe('not_found');
    });

    it('refresh() is false when nothing changed, also right after its own writes', () => {
      expect(registry.refresh()).toBe(false);
      registry.create(sensor('s-1'), { passwordHash: 'h' });
      registry.update('s-1', { name: 'x' });
      registry.setCredential('s-1', { passwordHash: 'h2' });
      expect(registry.refresh()).toBe(false);
    });

    it('a list is the caller\'s to keep: changing it does not change the registry', () => {
      registry.create(sensor('s-1'), { passwordHash: 'h' });
      const list = registry.list();
      list.pop();
      expect(registry.list()).toHaveLength(1);
    });

    describe('durable', () => {
      it('keeps sensors and credentials for a new connection', (ctx) => {
        if (!opened.reopen) return ctx.skip();
        registry.create(sensor('s-1'), { passwordHash: 'h1' });
        registry.update('s-1', { name: 'x' });
        const again = opened.reopen();
        expect(again.list()).toEqual(registry.list());
        expect(again.getCredential('s-1')).toEqual({ passwordHash: 'h1' });
      });

      it('sees what another connection (the CLI) registered after refresh(), and a rotation at once', (ctx) => {
        if (!opened.reopen) return ctx.skip();
        registry.create(sensor('s-1'), { passwordHash: 'h1' });
        const kept = registry.get('s-1');
        const cli = opened.reopen();
        cli.create(sensor('s-2'), { passwordHash: 'h2' });
        cli.setCredential('s-1', { passwordHash: 'rotated' });
        expect(registry.getCredential('s-1')).toEqual({ passwordHash: 'rotated' });
        expect(registry.get('s-2')).toBeUndefined();
        expect(registry.refresh()).toBe(true);
        expect(registry.list().map((s) => s.id)).toEqual(['s-1', 's-2']);
        // The unchanged sensor keeps its object through the reload.
        expect(registry.get('s-1')).toBe(kept);
        expect(registry.refresh()).toBe(false);
        cli.update('s-1', { name: 'by cli' });
        expect(registry.refresh()).toBe(true);
        expect(registry.get('s-1')?.name).toBe('by cli');
        // A write here after the CLI's (without a refresh between) still leaves the CLI's change to be read.
        cli.create(sensor('s-3'), { passwordHash: 'h3' });
        registry.create(sensor('s-4'), { passwordHash: 'h4' });
        expect(registry.refresh()).toBe(true);
        expect(registry.list().map((s) => s.id)).toEqual(['s-1', 's-2', 's-3', 's-4']);
      });

      it('an update of a sensor another connection created refreshes first', (ctx) => {
        if (!opened.reopen) return ctx.skip();
        opened.reopen().create(sensor('s-9'), { passwordHash: 'h' });
        expect(registry.update('s-9', { name: 'found' }).name).toBe('found');
      });
    });
  });
}
