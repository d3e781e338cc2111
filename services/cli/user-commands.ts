import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { RoleSchema, UsernameSchema } from '../core/auth.ts';
import { DomainError } from '../core/errors.ts';
import { NewPasswordSchema } from '../core/password-policy.ts';
import { createAuditLog } from '../audit/audit-log.ts';
import { hashPasswordSync } from '../auth/passwords.ts';
import { createSessionStore } from '../auth/session-store.ts';
import { createUserStore } from '../auth/user-store.ts';
import type { Config } from '../config.ts';
import { openMetadataDatabase } from '../storage/metadata-db.ts';
import { createSqliteSessions, createSqliteUsers } from '../storage/sqlite-accounts.ts';
import { createSqliteAudit } from '../storage/sqlite-audit.ts';

export const USER_USAGE = `  user add --username NAME --role admin|technician|staff
      Create a user; the password is read from stdin (first line), never from
      the command line (it would show in ps and shell history), e.g.
      read -rs PW && printf '%s\\n' "$PW" | kansui user add --username sato --role admin
  user passwd --username NAME
      Set a new password (stdin); ends all of the user's sessions.
  user list
      Print users as JSON (no hashes).
  token add --username NAME [--name LABEL]
      Print one new API token for the user (send as Authorization: Bearer TOKEN).`;

type Out = { stdout: (s: string) => void; stderr: (s: string) => void; stdin?: () => string };

function readPassword(out: Out): string {
  const text = (out.stdin ?? (() => readFileSync(0, 'utf8')))();
  const password = text.split(/\r?\n/)[0] ?? '';
  const parsed = NewPasswordSchema.safeParse(password);
  if (!parsed.success) throw new DomainError('invalid_input', `stdin: ${parsed.error.issues[0]?.message ?? 'invalid password'}`);
  return parsed.data;
}

function arg(parsed: { success: boolean; data?: unknown; error?: { issues: { message: string }[] } }, flag: string): string {
  if (!parsed.success) throw new DomainError('invalid_input', `--${flag}: ${parsed.error?.issues[0]?.message ?? 'invalid'}`);
  return parsed.data as string;
}

/**
 * `kansui user …` and `kansui token …` (issue 5). Returns the exit code, or
 * undefined when the command is not one of these.
 */
export function runUserCommand(group: string, command: string | undefined, rest: string[], config: Config, out: Out): number | undefined {
  if (group !== 'user' && group !== 'token') return undefined;
  const { values: v } = parseArgs({
    args: rest,
    options: { username: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' } },
    strict: true,
  });
  const db = openMetadataDatabase(config.DATA_DIR);
  try {
    const userRepo = createSqliteUsers(db);
    const users = createUserStore(userRepo);
    const audit = createAuditLog(createSqliteAudit(db));
    const username = () => arg(UsernameSchema.safeParse(v.username), 'username');
    const existing = () => {
      const user = users.get(username());
      if (!user) throw new DomainError('not_found', `no user ${v.username}`);
      return user;
    };
    if (group === 'user' && command === 'add') {
      const name = username();
      const role = arg(RoleSchema.safeParse(v.role), 'role') as 'admin' | 'technician' | 'staff';
      const user = users.create(name, role, hashPasswordSync(readPassword(out)));
      audit.record({ actor: 'cli', action: 'user.create', targetType: 'user', targetId: user.username, after: { username: user.username, role: user.role } });
      out.stdout(JSON.stringify({ id: user.id, username: user.username, role: user.role }) + '\n');
      return 0;
    }
    if (group === 'user' && command === 'passwd') {
      const user = existing();
      users.setPassword(user.id, hashPasswordSync(readPassword(out)));
      createSessionStore(createSqliteSessions(db), userRepo).destroyAllFor(user.id);
      audit.record({ actor: 'cli', action: 'user.password', targetType: 'user', targetId: user.username });
      out.stdout(JSON.stringify({ username: user.username, passwordChanged: true }) + '\n');
      return 0;
    }
    if (group === 'user' && command === 'list') {
      out.stdout(JSON.stringify(users.list().map((u) => ({ id: u.id, username: u.username, role: u.role, disabled: u.disabled })), null, 2) + '\n');
      return 0;
    }
    if (group === 'token' && command === 'add') {
      const user = existing();
      const { id, token } = users.issueToken(user.id, v.name ?? 'cli');
      audit.record({ actor: 'cli', action: 'token.create', targetType: 'token', targetId: String(id), after: { user: user.username, name: v.name ?? 'cli' } });
      out.stdout(token + '\n');
      return 0;
    }
    out.stderr(`kansui: unknown command: ${group} ${command ?? ''}\n`);
    return 2;
  } finally {
    db.close();
  }
}
