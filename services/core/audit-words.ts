import type { AuditEntry } from './audit.ts';
import { STATUS_WORDS } from './words.ts';

/** An audit entry said in words, in both languages. */
export interface AuditWords {
  ja: string;
  en: string;
}

const clocks = new Map<string, Intl.DateTimeFormat>();
/** `16:05` in the service's time zone. */
function clock(ms: number, timeZone: string): string {
  let f = clocks.get(timeZone);
  if (!f) clocks.set(timeZone, (f = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })));
  return f.format(ms);
}

type Fields = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

// Level words from the one catalogue (issue 16); in the English log's running text, lower case.
const LEVEL_JA: Record<string, string> = { caution: STATUS_WORDS.caution.ja, warning: STATUS_WORDS.warning.ja, danger: STATUS_WORDS.danger.ja };
const LEVEL_EN: Record<string, string> = { caution: STATUS_WORDS.caution.en.toLowerCase(), warning: STATUS_WORDS.warning.en.toLowerCase(), danger: STATUS_WORDS.danger.en.toLowerCase() };

/**
 * Say what an audit entry records, the way a disaster-response office
 * writes its log (issue 13): who did what to which sensor or alert, when,
 * with their note — `佐藤 acknowledged 打田駅前アンダーパス 危険 at 16:05: 現地確認に向かう`.
 * Names are as registered (Japanese), so both languages name the same place.
 * Pure: the entry carries what it needs (written when the action happened,
 * so a later rename does not rewrite history).
 *
 * @example describeAudit(entry, 'Asia/Tokyo').en // '佐藤 acknowledged 打田駅前アンダーパス 危険 at 16:05: 現地確認に向かう'
 */
export function describeAudit(e: Pick<AuditEntry, 'at' | 'actor' | 'action' | 'targetType' | 'targetId' | 'before' | 'after'>, timeZone: string): AuditWords {
  const at = clock(e.at, timeZone);
  const after = (e.after ?? {}) as Fields;
  const before = (e.before ?? {}) as Fields;
  const who = e.actor;
  const name = str(after.sensor_name) ?? str(before.sensor_name) ?? str(after.name) ?? str(after.sensor_id) ?? e.targetId;
  const note = str(after.note) ?? str(after.reason);
  const tail = (s: string) => (note ? `${s}: ${note}` : s);
  const tailJa = (s: string) => (note ? `${s}：${note}` : s);

  switch (e.action) {
    case 'alert.acknowledge': {
      const levelJa = str(after.level_name) ?? LEVEL_JA[String(after.severity)] ?? String(after.severity ?? '');
      return {
        ja: tailJa(`${at} ${who} が ${name} の${levelJa}を確認`),
        en: tail(`${who} acknowledged ${name} ${levelJa} at ${at}`),
      };
    }
    case 'closure.create':
      return { ja: tailJa(`${at} ${who} が ${name} を通行止めに設定`), en: tail(`${who} closed the road at ${name} (通行止め) at ${at}`) };
    case 'closure.lift':
      return { ja: tailJa(`${at} ${who} が ${name} の通行止めを解除`), en: tail(`${who} lifted the road closure at ${name} at ${at}`) };
    case 'line.settings': {
      const to = String(after.quota_short_min_level ?? '');
      const from = before.quota_short_min_level === undefined ? undefined : String(before.quota_short_min_level);
      return {
        ja: `${at} ${who} が LINE の残り通数不足時の配信を「${LEVEL_JA[to] ?? to}以上」に変更${from ? `（変更前：${LEVEL_JA[from] ?? from}以上）` : ''}`,
        en: `${who} set what LINE residents get while the quota is short to ${LEVEL_EN[to] ?? to} and above${from ? ` (was ${LEVEL_EN[from] ?? from})` : ''} at ${at}`,
      };
    }
    case 'alert.recipient.add':
    case 'alert.recipient.remove': {
      const r = (e.action === 'alert.recipient.add' ? after : before) as Fields;
      const what = `${String(r.channel ?? '')} ${String(r.label ?? r.target ?? e.targetId)}`.trim();
      return e.action === 'alert.recipient.add'
        ? { ja: `${at} ${who} が通知先 ${what} を追加`, en: `${who} added alert recipient ${what} at ${at}` }
        : { ja: `${at} ${who} が通知先 ${what} を削除`, en: `${who} removed alert recipient ${what} at ${at}` };
    }
    case 'alert.settings': {
      const t = after.thresholds as { caution?: number; warning?: number; danger?: number } | undefined;
      const levels = t ? ` ${t.caution}/${t.warning}/${t.danger} cm` : '';
      return { ja: `${at} ${who} が ${name} の警報設定を変更（${String(after.preset ?? '')}${levels}）`, en: `${who} changed the alert settings of ${name} (${String(after.preset ?? '')}${levels}) at ${at}` };
    }
    case 'session.login':
      return { ja: `${at} ${who} がサインイン`, en: `${who} signed in at ${at}` };
    case 'session.logout':
      return { ja: `${at} ${who} がサインアウト`, en: `${who} signed out at ${at}` };
    case 'user.create':
      return { ja: `${at} ${who} がユーザー ${e.targetId} を追加`, en: `${who} added user ${e.targetId} at ${at}` };
    case 'user.update':
      return { ja: `${at} ${who} がユーザー ${e.targetId} を変更`, en: `${who} changed user ${e.targetId} at ${at}` };
    case 'user.notifications': {
      const self = e.targetId === who;
      const level = LEVEL_JA[String(after.min_severity)] ?? String(after.min_severity ?? '');
      return {
        ja: `${at} ${who} が${self ? '自分' : ` ${e.targetId} `}の通知設定を変更（${level}以上）`,
        en: `${who} changed ${self ? 'their own' : `${e.targetId}'s`} notification preferences (${LEVEL_EN[String(after.min_severity)] ?? ''} and above) at ${at}`,
      };
    }
    case 'user.password':
      return { ja: `${at} ${who} がユーザー ${e.targetId} のパスワードを再設定`, en: `${who} reset the password of user ${e.targetId} at ${at}` };
    case 'token.create':
      return { ja: `${at} ${who} が API トークン ${e.targetId} を発行`, en: `${who} issued API token ${e.targetId} at ${at}` };
    case 'token.revoke':
      return { ja: `${at} ${who} が API トークン ${e.targetId} を失効`, en: `${who} revoked API token ${e.targetId} at ${at}` };
    case 'sensor.create':
      return { ja: `${at} ${who} がセンサー ${name} を登録`, en: `${who} registered sensor ${name} at ${at}` };
    case 'sensor.update': {
      const changed = Object.keys(after).filter((k) => JSON.stringify(after[k]) !== JSON.stringify(before[k]));
      const what = changed.length ? ` (${changed.join(', ')})` : '';
      return { ja: `${at} ${who} がセンサー ${e.targetId} を変更${what}`, en: `${who} changed sensor ${e.targetId}${what} at ${at}` };
    }
    case 'sensor.credentials.rotate':
      return { ja: `${at} ${who} がセンサー ${e.targetId} の接続パスワードを再発行`, en: `${who} rotated the MQTT password of sensor ${e.targetId} at ${at}` };
    case 'sensor.credentials.revoke':
      return { ja: `${at} ${who} がセンサー ${e.targetId} の接続情報を無効化`, en: `${who} revoked the MQTT credentials of sensor ${e.targetId} at ${at}` };
    case 'sensor.calibration.zero':
      return { ja: `${at} ${who} がセンサー ${e.targetId} のゼロ点を設定`, en: `${who} set the zero of sensor ${e.targetId} at ${at}` };
    case 'http.write':
    default:
      return { ja: `${at} ${who}：${e.targetId}`, en: `${who}: ${e.targetId} at ${at}` };
  }
}
