import type { AuditEntry, AuditRepository } from '../core/audit.ts';

/**
 * In-memory audit log (tests). Entries are kept as JSON text, as the SQLite
 * adapter keeps them, so a caller changing an object after recording it does
 * not change the log, and `undefined` fields read back the same way.
 */
export function createMemoryAudit(): AuditRepository {
  const rows: { entry: Omit<AuditEntry, 'before' | 'after'>; before: string | null; after: string | null }[] = [];
  const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
  return {
    append({ before, after, ...rest }) {
      const id = rows.length + 1;
      rows.push({ entry: { ...rest, id }, before: json(before), after: json(after) });
      return id;
    },
    list(q) {
      const out: AuditEntry[] = [];
      for (let i = rows.length - 1; i >= 0 && out.length < q.limit; i--) {
        const r = rows[i]!;
        if (q.before !== undefined && r.entry.id >= q.before) continue;
        if (q.target !== undefined && r.entry.targetId !== q.target) continue;
        out.push({ ...r.entry, before: r.before === null ? null : JSON.parse(r.before), after: r.after === null ? null : JSON.parse(r.after) });
      }
      return out;
    },
  };
}
