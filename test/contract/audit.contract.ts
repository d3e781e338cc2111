import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditRepository, NewAuditEntry } from '../../services/core/audit.ts';

export interface OpenedAudit {
  repo: AuditRepository;
  /** The same data through a new connection (durable adapters only). */
  reopen?: () => AuditRepository;
  close: () => void;
}

const entry = (over: Partial<NewAuditEntry> = {}): NewAuditEntry => ({
  at: 1_000,
  actorUserId: 1,
  actor: 'sato',
  action: 'sensor.update',
  targetType: 'sensor',
  targetId: 's-1',
  before: { name: '旧' },
  after: { name: '新', thresholds: { caution: 10, warning: 20, danger: 30 } },
  address: '192.0.2.1',
  ...over,
});

/** One contract for every AuditRepository adapter (issue 16; the pattern of reading-store.contract.ts). */
export function describeAuditContract(h: { name: string; open: () => OpenedAudit }) {
  describe(`AuditRepository contract: ${h.name}`, () => {
    let opened: OpenedAudit;
    let repo: AuditRepository;
    beforeEach(() => {
      opened = h.open();
      repo = opened.repo;
    });
    afterEach(() => opened.close());

    it('appends with rising ids and lists newest first, as stored', () => {
      const a = repo.append(entry());
      const b = repo.append(entry({ at: 2_000, actorUserId: null, actor: 'cli', action: 'sensor.create', targetId: 's-2', before: null, after: { id: 's-2' }, address: null }));
      expect(b).toBeGreaterThan(a);
      expect(repo.list({ limit: 10 })).toEqual([
        { id: b, at: 2_000, actorUserId: null, actor: 'cli', action: 'sensor.create', targetType: 'sensor', targetId: 's-2', before: null, after: { id: 's-2' }, address: null },
        { id: a, ...entry() },
      ]);
    });

    it('reads an absent before/after as null', () => {
      repo.append(entry({ before: undefined, after: undefined, action: 'session.login', targetType: 'session', targetId: 'sato' }));
      expect(repo.list({ limit: 1 })[0]).toMatchObject({ before: null, after: null });
    });

    it('limits, pages by id and filters by target', () => {
      const ids = [1, 2, 3, 4, 5].map((i) => repo.append(entry({ at: i, targetId: i % 2 ? 'odd' : 'even' })));
      expect(repo.list({ limit: 2 }).map((e) => e.id)).toEqual([ids[4], ids[3]]);
      expect(repo.list({ limit: 2, before: ids[3] }).map((e) => e.id)).toEqual([ids[2], ids[1]]);
      expect(repo.list({ limit: 10, target: 'even' }).map((e) => e.id)).toEqual([ids[3], ids[1]]);
      expect(repo.list({ limit: 10, target: 'odd', before: ids[2] }).map((e) => e.id)).toEqual([ids[0]]);
      expect(repo.list({ limit: 10, target: 'none' })).toEqual([]);
    });

    it('keeps what was recorded: changing the object afterwards changes nothing', () => {
      const after = { name: 'x' };
      repo.append(entry({ after }));
      after.name = 'changed';
      expect(repo.list({ limit: 1 })[0]?.after).toEqual({ name: 'x' });
    });

    it('keeps entries for a new connection', (ctx) => {
      if (!opened.reopen) return ctx.skip();
      const id = repo.append(entry());
      expect(opened.reopen().list({ limit: 10 })).toEqual([{ id, ...entry() }]);
    });
  });
}
