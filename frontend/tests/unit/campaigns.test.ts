import { describe, expect, it } from 'vitest'
import type { SegmentNode as RuleNode } from '../../src/api'
import { createAppI18n } from '../../src/i18n'
import { translateError } from '../../src/i18n/errors'
import {
  addChild,
  completeTree,
  conditionComplete,
  conditionCount,
  depth,
  incompleteCount,
  measureSms,
  moveChannel,
  newCondition,
  nodeAt,
  progressPercent,
  removeAt,
  setCondition,
  setNot,
  setOp,
  smsCounter,
  toggleChannel,
  wallTime,
} from '../../src/components/campaigns/rules'
import { actorName, allowedActions, approveBlocker, quotaState } from '../../src/components/campaigns/plan'
import ja from '../../src/i18n/ja'
import en from '../../src/i18n/en'

const tag = (v: string): RuleNode => ({ cond: { kind: 'tag', value: v } })

describe('rule tree editing', () => {
  const base: RuleNode = { op: 'and', children: [tag('a'), { op: 'or', children: [tag('b'), tag('c')] }] }

  it('adds, removes and edits by path without touching the original', () => {
    const frozen = JSON.stringify(base)
    const added = addChild(base, [1], tag('d'))
    expect(nodeAt(added, [1, 2])).toEqual(tag('d'))
    expect(conditionCount(added)).toBe(4)
    const removed = removeAt(added, [0])
    expect(nodeAt(removed, [0])?.op).toBe('or')
    expect(conditionCount(removed)).toBe(3)
    const op = setOp(base, [1], 'and')
    expect(nodeAt(op, [1])?.op).toBe('and')
    const edited = setCondition(base, [1, 0], { kind: 'line', value: 'blocked' })
    expect(nodeAt(edited, [1, 0])?.cond).toEqual({ kind: 'line', value: 'blocked' })
    expect(JSON.stringify(base)).toBe(frozen)
    // The root cannot be removed; a path past the tree changes nothing.
    expect(removeAt(base, [])).toBe(base)
    expect(setOp(base, [7, 1], 'or')).toBe(base)
  })

  it('marks and unmarks exclusions (NOT) and omits a false flag', () => {
    const ex = setNot(base, [0], true)
    expect(nodeAt(ex, [0])?.not).toBe(true)
    const back = setNot(ex, [0], false)
    expect(nodeAt(back, [0])).toEqual(tag('a'))
    expect('not' in (nodeAt(back, [0]) as object)).toBe(false)
  })

  it('measures depth', () => {
    expect(depth({ op: 'and', children: [] })).toBe(0)
    expect(depth(base)).toBe(2)
  })
})

describe('condition completeness and the counted tree', () => {
  it.each([
    [newCondition('field'), false],
    [{ kind: 'field', field: 'branch', cmp: 'eq', value: '001' }, true],
    [{ kind: 'field', field: 'branch', cmp: 'in', values: [] }, false],
    [{ kind: 'field', field: 'age', minAge: 0, maxAge: 0 }, false],
    [{ kind: 'field', field: 'age', minAge: 60, maxAge: 0 }, true],
    [{ kind: 'field', field: 'age', minAge: 60, maxAge: 30 }, false],
    [{ kind: 'field', field: 'postal_prefix', value: '100-0' }, true],
    [{ kind: 'field', field: 'postal_prefix', value: 'abc' }, false],
    [{ kind: 'product', productType: '定期預金' }, true],
    [{ kind: 'product', productType: '' }, false],
    [{ kind: 'product', productType: '定期預金', maturesFromDays: 30, maturesToDays: 0 }, false],
    [{ kind: 'attribute', key: 'rank', cmp: 'between', values: ['1', ''] }, false],
    [{ kind: 'attribute', key: 'rank', cmp: 'between', values: ['1', '3'] }, true],
    [newCondition('tag'), false],
    [newCondition('line'), true],
    [newCondition('consent'), true],
    [newCondition('lastContact'), true],
    [{ kind: 'lastContact', direction: 'in', days: 0 }, false],
    [newCondition('click'), false],
    [{ kind: 'click', campaign: '12', cmp: 'clicked', value: '' }, true],
    [{ kind: 'click', campaign: '12', cmp: 'not_clicked', value: 'https://www.example.jp/' }, true],
    [{ kind: 'click', campaign: '12', cmp: 'opened' }, false],
  ] as const)('%j complete: %s', (c, want) => {
    expect(conditionComplete(c as never)).toBe(want)
  })

  it('counts only complete conditions and drops groups left empty', () => {
    const tree: RuleNode = {
      op: 'and',
      children: [tag('vip'), { cond: newCondition('tag') }, { op: 'or', not: true, children: [{ cond: newCondition('field') }] }],
    }
    expect(incompleteCount(tree)).toBe(2)
    expect(completeTree(tree)).toEqual({ op: 'and', children: [tag('vip')] })
    expect(completeTree({ op: 'or', children: [{ cond: newCondition('tag') }] })).toEqual({ op: 'or', children: [] })
  })
})

describe('SMS length counter', () => {
  it.each([
    ['', 0, 1, false],
    ['a'.repeat(160), 160, 1, false],
    ['a'.repeat(161), 161, 2, false],
    ['あ'.repeat(70), 70, 1, true],
    ['あ'.repeat(71), 71, 2, true],
    ['あ'.repeat(268), 268, 4, true],
    ['あ'.repeat(269), 269, 5, true],
    ['𠮷'.repeat(35), 70, 1, true], // outside the BMP: two UCS-2 units each
  ])('%s… → %i chars, %i part(s)', (text, chars, parts, ucs2) => {
    const l = measureSms(text)
    expect([l.chars, l.parts, l.ucs2]).toEqual([chars, parts, ucs2])
    expect(l.tooLong).toBe(parts > 4)
  })

  it('chooses the counter message', () => {
    expect(smsCounter(measureSms('ご来店ありがとうございます')).key).toBe('campaigns.sms.counterOne')
    expect(smsCounter(measureSms('あ'.repeat(100)))).toMatchObject({ key: 'campaigns.sms.counterParts', level: 'warn', named: { parts: 2 } })
    expect(smsCounter(measureSms('あ'.repeat(300)))).toMatchObject({ key: 'campaigns.sms.counterTooLong', level: 'error', named: { max: 268 } })
  })
})

describe('channels, schedule and progress', () => {
  it('reorders and toggles channels', () => {
    expect(moveChannel(['line', 'email', 'sms'], 'sms', -1)).toEqual(['line', 'sms', 'email'])
    expect(moveChannel(['line', 'email'], 'line', -1)).toEqual(['line', 'email'])
    expect(toggleChannel(['line'], 'sms', true)).toEqual(['line', 'sms'])
    expect(toggleChannel(['line', 'sms'], 'line', false)).toEqual(['sms'])
  })

  it('formats wall time in a zone', () => {
    const ms = Date.UTC(2026, 10, 30, 0, 30) // 09:30 in Tokyo
    expect(wallTime(ms, 'Asia/Tokyo')).toBe('2026-11-30T09:30')
    expect(wallTime(ms, 'UTC')).toBe('2026-11-30T00:30')
  })

  it('computes progress from the report', () => {
    expect(progressPercent([])).toBe(0)
    expect(progressPercent([{ planned: 4, sent: 1, failed: 1, uncertain: 0 }, { planned: 4, sent: 0, failed: 0, uncertain: 0 }])).toBe(25)
    expect(progressPercent([{ planned: 2, sent: 2, failed: 0, uncertain: 0 }])).toBe(100)
  })
})

describe('approval and quota', () => {
  const plan = { matched: 5, line: 3, email: 1, sms: 0, skipped: {}, lineGroups: 1, lineRequests: 1, quotaNeed: 6, quotaChecked: true, quotaLimited: true, quotaLeft: 10, quotaLimit: 200, quotaError: '', gaps: [], unresolved: 0 }

  it('never lets the author approve, and explains why', () => {
    expect(approveBlocker({ author: 'staff:tanaka', status: 'draft' }, 'staff:tanaka', true)).toBe('campaigns.approval.ownBlocked')
    expect(approveBlocker({ author: 'staff:tanaka', status: 'draft' }, 'staff:suzuki', false)).toBe('campaigns.approval.noPermission')
    expect(approveBlocker({ author: 'staff:tanaka', status: 'draft' }, 'staff:suzuki', true)).toBeNull()
    expect(actorName('staff:suzuki')).toBe('suzuki')
  })

  it('allows actions by status', () => {
    expect(allowedActions('draft')).toContain('approve')
    expect(allowedActions('draft')).not.toContain('send')
    expect(allowedActions('approved')).toEqual(expect.arrayContaining(['send', 'schedule', 'edit', 'cancel']))
    expect(allowedActions('sending')).toEqual(['pause'])
    expect(allowedActions('done')).toEqual([])
  })

  it('states the LINE quota check', () => {
    expect(quotaState({ ...plan, line: 0 })).toBeNull()
    expect(quotaState(plan)).toMatchObject({ key: 'campaigns.quota.fits', fits: true })
    expect(quotaState({ ...plan, quotaLeft: 5 })).toMatchObject({ key: 'campaigns.quota.short', fits: false, named: { n: 6, left: 5, max: 200 } })
    expect(quotaState({ ...plan, quotaLimited: false })).toMatchObject({ key: 'campaigns.quota.unlimited', fits: true })
    expect(quotaState({ ...plan, quotaChecked: false })).toMatchObject({ key: 'campaigns.quota.unknown' })
  })
})

describe('campaign error codes', () => {
  it('maps every code of app/facade/campaigns.go to a message in both catalogs', () => {
    const codes = ['segmentInvalid', 'campaignInvalid', 'campaignState', 'campaignOwnApproval', 'campaignNotApproved', 'campaignStale', 'campaignQuota',
      'campaignOffline', 'campaignNoMailer', 'campaignNoSms', 'campaignPast', 'mailSettings', 'smsSettings', 'testSendFailed']
    const tJa = createAppI18n('ja').global.t
    const tEn = createAppI18n('en').global.t
    for (const c of codes) {
      expect((ja.campaigns.errors as Record<string, string>)[c]).toBeTruthy()
      expect((en.campaigns.errors as Record<string, string>)[c]).toBeTruthy()
      expect(translateError(tJa, `errors.${c}`, 'campaigns')).toEqual({ message: (ja.campaigns.errors as Record<string, string>)[c], code: null })
      expect(translateError(tEn, `errors.${c}`, 'campaigns')).toEqual({ message: (en.campaigns.errors as Record<string, string>)[c], code: null })
    }
    expect(translateError(tJa, 'errors.forbidden', 'campaigns').message).toBe(ja.errors.forbidden)
  })
})
