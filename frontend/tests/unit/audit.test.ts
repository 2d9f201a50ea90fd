import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createAppI18n } from '../../src/i18n'
import { AUDIT_ACTIONS, AUDIT_GROUPS, actionLabel, actionOptions, actorLabel, detailItems, rawDetail, targetLabel } from '../../src/utils/audit'

// Tests run from frontend/ (npm run test:unit); the Go sources are next to it.
const root = resolve(process.cwd(), '..')

/** Audit action strings declared in the Go sources (Action* constants and literal Action: fields). */
function goActions(): string[] {
  const found = new Set<string>()
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (name.endsWith('.go') && !name.endsWith('_test.go')) {
        const src = readFileSync(p, 'utf8')
        for (const m of src.matchAll(/\bAction\w*\s*=\s*"([a-z_]+\.[a-z_]+)"/g)) found.add(m[1] ?? '')
        for (const m of src.matchAll(/\bAction:\s*"([a-z_]+\.[a-z_]+)"/g)) found.add(m[1] ?? '')
      }
    }
  }
  walk(join(root, 'internal'))
  walk(join(root, 'app'))
  return [...found].sort()
}

describe('audit trail labels', () => {
  it('knows every action the backend records', () => {
    const backend = goActions()
    expect(backend).toContain('staff.create')
    expect(backend.filter((a) => !(AUDIT_ACTIONS as readonly string[]).includes(a))).toEqual([])
  })

  it('labels every action and group in both languages', () => {
    for (const locale of ['ja', 'en'] as const) {
      const { t, te } = createAppI18n(locale).global
      for (const a of AUDIT_ACTIONS) {
        expect(te(`audit.actions.${a}`), `${locale}:${a}`).toBe(true)
        expect(actionLabel(t, te, a)).not.toBe(a)
        expect(AUDIT_GROUPS as readonly string[]).toContain(a.split('.')[0])
      }
      for (const g of AUDIT_GROUPS) expect(te(`audit.groups.${g}`), `${locale}:${g}`).toBe(true)
    }
  })

  it('shows clerks words, keeps unknown codes as recorded', () => {
    const { t, te } = createAppI18n('ja').global
    expect(actionLabel(t, te, 'staff.create')).toBe('職員を追加')
    expect(actionLabel(t, te, 'future.thing')).toBe('future.thing')
    expect(actionLabel(t, te, 'a b')).toBe('a b')
    // Staff by display name: the report's names first, never the actor code.
    expect(actorLabel(t, 'staff:admin', { 'staff:admin': '支店長' })).toBe('支店長')
    expect(actorLabel(t, 'staff:admin')).toBe('admin')
    expect(actorLabel(t, 'system')).toBe('システム（自動処理）')
    expect(actorLabel(t, 'recovery:suzuki')).toBe('復旧コードの入力者（OS のユーザー suzuki）')
    expect(targetLabel(t, te, 'staff.create', 'staff:tanaka', { 'staff:tanaka': '田中 花子' })).toBe('職員 田中 花子')
    // Customers by number, never by internal ID; an erased one by what it is.
    expect(targetLabel(t, te, 'customer.view', 'customer:5', { 'customer:5': '1001' })).toBe('顧客番号 1001')
    expect(targetLabel(t, te, 'customer.view', 'customer:5')).toBe('消去済みの顧客')
    expect(targetLabel(t, te, 'richmenu.publish', 'richmenu:3')).toBe('リッチメニュー')
    expect(targetLabel(t, te, 'settings.change', 'idle_minutes')).toBe('画面ロックまでの時間（分）')
    expect(detailItems(t, te, 'staff.create', { role: 'operator' })).toEqual([{ key: 'role', label: '権限', value: '担当者' }])
    expect(detailItems(t, te, 'access.denied', { permission: 'audit.read', role: 'auditor' }).map((d) => d.value)).toEqual(['監査ログの閲覧', '監査担当'])
    expect(detailItems(t, te, 'auth.signin_failed', { reason: 'bad_password' })[0]?.value).toBe('パスワードの誤り')
    expect(detailItems(t, te, 'import.run', { new: '3' })[0]?.label).toBe('新規')
    expect(detailItems(t, te, 'settings.change', { new: '5' })[0]?.label).toBe('変更後')
    // What was imported, in words.
    expect(detailItems(t, te, 'import.run', { kind: 'customers' })[0]?.value).toBe('顧客')
    // Who recorded a consent: a person, not an actor code.
    expect(detailItems(t, te, 'customer.consent', { source: 'staff:tanaka' })[0]?.value).toBe('tanaka')
    // Internal IDs, hashes and API call counts are not shown (the CSV has them).
    expect(detailItems(t, te, 'recovery.create', { keyId: '1dd73f1d0f8301d3aabbccdd' })).toEqual([])
    expect(detailItems(t, te, 'import.run', { sha256: '733d92e3fe5c'.repeat(5), rows: '2' }).map((d) => d.key)).toEqual(['rows'])
    const sync = detailItems(t, te, 'richmenu.sync', { state: 'done', planned: '3', applied: '2', calls: '1', resumed: 'false' })
    expect(sync.map((d) => `${d.label}=${d.value}`)).toEqual(['結果=完了', '対象の友だち=3 人', '切り替えた友だち=2 人', '中断からの再開=いいえ'])
    const pub = detailItems(t, te, 'richmenu.publish', { revision: '2', lineMenuId: 'richmenu-0a1b2c', replaces: '' })
    expect(pub.map((d) => `${d.label}=${d.value}`)).toEqual(['版=第 2 版'])
    const exp = detailItems(t, te, 'audit.export', { from: '2026-04-01', actor: 'staff:x', action: 'auth.', entries: '3' })
    expect(exp.map((d) => `${d.label}=${d.value}`)).toEqual(['期間の開始日=2026-04-01', '操作者=x', '操作=サインイン・画面ロック', '件数=3'])
    expect(rawDetail({ role: 'operator' })).toBe('role=operator')
  })

  it('filters by group or by one action, in words', () => {
    const { t, te } = createAppI18n('en').global
    const opts = actionOptions(t, te)
    expect(opts[0]).toEqual({ value: '', label: 'All actions' })
    const auth = opts.find((o) => 'key' in o && o.key === 'auth') as { children: { value: string; label: string }[] }
    expect(auth.children[0]).toEqual({ value: 'auth.', label: 'Sign-in and screen lock (all)' })
    expect(auth.children.map((c) => c.value)).toContain('auth.signin_failed')
  })

  it('names a seat by its name and hides the code row it came from', () => {
    const { t, te } = createAppI18n('ja').global
    expect(targetLabel(t, te, 'seat.revoke', 'seat:窓口2')).toBe('子機「窓口2」')
    const pair = detailItems(t, te, 'seat.pair', { fingerprint: '0412-7735-9018-2264', codeId: '3', remote: '192.168.1.31:50122' })
    expect(pair.map((d) => `${d.label}=${d.value}`)).toEqual(['照合番号=0412-7735-9018-2264', '接続元（LAN のアドレス）=192.168.1.31:50122'])
    expect(detailItems(t, te, 'seat.pair_refused', { reason: 'code_expired' })[0]?.value).toBe('期限切れのコード')
  })
})
