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
    expect(actorLabel(t, 'staff:admin')).toBe('staff:admin')
    expect(actorLabel(t, 'system')).toBe('システム（自動処理）')
    expect(actorLabel(t, 'recovery:suzuki')).toBe('復旧コードの入力者（OS のユーザー suzuki）')
    expect(targetLabel(t, te, 'staff.create', 'staff:tanaka')).toBe('職員 tanaka')
    expect(targetLabel(t, te, 'settings.change', 'idle_minutes')).toBe('画面ロックまでの時間（分）')
    expect(detailItems(t, te, 'staff.create', { role: 'operator' })).toEqual([{ key: 'role', label: '権限', value: '担当者' }])
    expect(detailItems(t, te, 'access.denied', { permission: 'audit.read', role: 'auditor' }).map((d) => d.value)).toEqual(['監査ログの閲覧', '監査担当'])
    expect(detailItems(t, te, 'auth.signin_failed', { reason: 'bad_password' })[0]?.value).toBe('パスワードの誤り')
    expect(detailItems(t, te, 'import.run', { new: '3' })[0]?.label).toBe('新規')
    expect(detailItems(t, te, 'settings.change', { new: '5' })[0]?.label).toBe('変更後')
    const key = detailItems(t, te, 'recovery.create', { keyId: '1dd73f1d0f8301d3aabbccdd' })[0]
    expect(key?.value).toBe('1dd73f1d0f83…')
    expect(key?.full).toBe('1dd73f1d0f8301d3aabbccdd')
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
})
