import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotificationPrefsSchema, type UserNotificationRepository } from '../../services/core/user-notifications.ts';
import { createMemoryUserNotifications } from '../../services/storage/memory-user-notifications.ts';
import { openMetadataDatabase } from '../../services/storage/metadata-db.ts';
import { createSqliteUserNotifications } from '../../services/storage/sqlite-user-notifications.ts';

/** One suite, every UserNotificationRepository adapter (issue 13: staff notification preferences). */
const adapters: { name: string; open: () => { repo: UserNotificationRepository; reopen?: () => UserNotificationRepository; close: () => void } }[] = [
  { name: 'memory', open: () => ({ repo: createMemoryUserNotifications(), close: () => {} }) },
  {
    name: 'sqlite',
    open: () => {
      const dir = mkdtempSync(join(tmpdir(), 'kansui-prefs-'));
      const dbs = [openMetadataDatabase(dir)];
      return {
        repo: createSqliteUserNotifications(dbs[0]!),
        reopen: () => {
          const db = openMetadataDatabase(dir);
          dbs.push(db);
          return createSqliteUserNotifications(db);
        },
        close: () => {
          for (const db of dbs) db.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

for (const adapter of adapters) {
  describe(`UserNotificationRepository contract: ${adapter.name}`, () => {
    it('keeps one set of preferences per user, replaced on put, listed by name', () => {
      const { repo, reopen, close } = adapter.open();
      try {
        const a = NotificationPrefsSchema.parse({ email: 'a@city.test', areas: ['打田'], quiet_hours: { start: '22:00', end: '06:00' } });
        const b = NotificationPrefsSchema.parse({ min_severity: 'danger' });
        expect(repo.get('sato')).toBeUndefined();
        repo.put('suzuki', b, 1);
        repo.put('sato', a, 1);
        expect(repo.get('sato')).toEqual(a);
        repo.put('sato', b, 2);
        expect(repo.get('sato')).toEqual(b);
        expect(repo.all().map((x) => x.username)).toEqual(['sato', 'suzuki']);
        if (reopen) expect(reopen().get('sato')).toEqual(b);
      } finally {
        close();
      }
    });
  });
}
