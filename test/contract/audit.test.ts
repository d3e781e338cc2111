import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAuditLog } from '../../services/audit/audit-log.ts';
import { createMemoryAudit } from '../../services/storage/memory-audit.ts';
import { openMetadataDatabase } from '../../services/storage/metadata-db.ts';
import { createSqliteAudit } from '../../services/storage/sqlite-audit.ts';
import type { SqliteDatabase } from '../../services/storage/sqlite.ts';
import { describeAuditContract } from './audit.contract.ts';

describeAuditContract({ name: 'memory', open: () => ({ repo: createMemoryAudit(), close: () => {} }) });

describeAuditContract({
  name: 'sqlite',
  open: () => {
    const dir = mkdtempSync(join(tmpdir(), 'kansui-audit-'));
    const dbs: SqliteDatabase[] = [openMetadataDatabase(dir)];
    return {
      repo: createSqliteAudit(dbs[0] as SqliteDatabase),
      reopen: () => {
        const db = openMetadataDatabase(dir);
        dbs.push(db);
        return createSqliteAudit(db);
      },
      close: () => {
        for (const db of dbs) db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

// The audit log's own rule, now testable without a database: secrets never reach the repository.
describe('audit log over the memory adapter', () => {
  it('strips secrets, stamps the time, and records the CLI as actor cli', () => {
    const repo = createMemoryAudit();
    const audit = createAuditLog(repo, () => 42);
    audit.record({ actor: 'cli', action: 'user.create', targetType: 'user', targetId: 'sato', after: { username: 'sato', password: 'pw', nested: { tokenHash: 'h', ok: 1 } } });
    expect(repo.list({ limit: 1 })).toEqual([
      { id: 1, at: 42, actorUserId: null, actor: 'cli', action: 'user.create', targetType: 'user', targetId: 'sato', before: null, after: { username: 'sato', nested: { ok: 1 } }, address: null },
    ]);
  });
});
