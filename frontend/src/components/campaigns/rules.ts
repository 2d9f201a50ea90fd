// Pure helpers of the segment builder and the campaign editor: editing a
// rule tree by path (immutably, so the editor can compare and debounce),
// which conditions are complete enough to count, the SMS length counter and
// the channel order. No Vue, no I/O: unit-tested in tests/unit/campaigns.test.ts.
import type { SegmentCondition, SegmentNode, CampaignSMSLength } from '../../api'

/** A node's position: child indexes from the root. */
export type Path = readonly number[]

/** The limits of internal/segment (rule.go). */
export const MAX_DEPTH = 6
export const MAX_CONDITIONS = 60

/**
 * The condition kinds the builder offers (survey: components/surveys/SurveyCondition.vue;
 * click: ClickCondition.vue; form: webforms/FormCondition.vue).
 * segment.Condition's kind is a plain string on the wire; the editor keeps
 * its own list, and the Go side refuses a kind it does not know.
 */
export const CONDITION_KINDS = ['field', 'product', 'attribute', 'tag', 'line', 'consent', 'lastContact', 'survey', 'click', 'form'] as const
export type ConditionKind = (typeof CONDITION_KINDS)[number]

export const FIELDS = ['branch', 'staff', 'status', 'gender', 'postal_prefix', 'age'] as const
export const LINE_STATES = ['linked', 'following', 'blocked'] as const
export const CONSENT_CHANNELS = ['line', 'email', 'sms', 'postal'] as const
export const ATTRIBUTE_CMPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'contains', 'in', 'between'] as const
export const FIELD_CMPS = ['eq', 'ne', 'in'] as const

export function emptyTree(): SegmentNode {
  return { op: 'and', children: [] }
}

/** A fresh condition of kind with sensible defaults. */
export function newCondition(kind: ConditionKind): SegmentCondition {
  switch (kind) {
    case 'field':
      return { kind, field: 'branch', cmp: 'eq', value: '' }
    case 'product':
      return { kind, productType: '', productStatus: 'active' }
    case 'attribute':
      return { kind, key: '', cmp: 'eq', value: '' }
    case 'tag':
      return { kind, value: '' }
    case 'line':
      return { kind, value: 'following' }
    case 'consent':
      return { kind, value: 'line' }
    case 'lastContact':
      return { kind, direction: 'any', days: 90 }
    case 'survey':
      return { kind, survey: '' }
    case 'click':
      return { kind, campaign: '', cmp: 'clicked', value: '' }
    case 'form':
      return { kind, form: '' }
  }
}

export function nodeAt(tree: SegmentNode, path: Path): SegmentNode | undefined {
  let n: SegmentNode | undefined = tree
  for (const i of path) n = n?.children?.[i]
  return n
}

/** Returns a copy of tree with the node at path replaced by fn(node). */
export function updateAt(tree: SegmentNode, path: Path, fn: (n: SegmentNode) => SegmentNode): SegmentNode {
  if (path.length === 0) return fn(tree)
  const [i, ...rest] = path as number[]
  const children = [...(tree.children ?? [])]
  const child = children[i as number]
  if (!child) return tree
  children[i as number] = updateAt(child, rest, fn)
  return { ...tree, children }
}

/** Appends child to the group at path. */
export function addChild(tree: SegmentNode, path: Path, child: SegmentNode): SegmentNode {
  return updateAt(tree, path, (g) => ({ ...g, children: [...(g.children ?? []), child] }))
}

/** Removes the node at path (the root cannot be removed). */
export function removeAt(tree: SegmentNode, path: Path): SegmentNode {
  if (path.length === 0) return tree
  const parent = path.slice(0, -1)
  const idx = path[path.length - 1]
  return updateAt(tree, parent, (g) => ({ ...g, children: (g.children ?? []).filter((_, i) => i !== idx) }))
}

export function setOp(tree: SegmentNode, path: Path, op: 'and' | 'or'): SegmentNode {
  return updateAt(tree, path, (g) => ({ ...g, op }))
}

/** Turns the node at path into an exclusion or back. */
export function setNot(tree: SegmentNode, path: Path, not: boolean): SegmentNode {
  return updateAt(tree, path, (n) => {
    const out = { ...n }
    if (not) out.not = true
    else delete out.not
    return out
  })
}

export function setCondition(tree: SegmentNode, path: Path, cond: SegmentCondition): SegmentNode {
  return updateAt(tree, path, (n) => ({ ...n, cond }))
}

export function conditionCount(n: SegmentNode): number {
  if (n.cond) return 1
  return (n.children ?? []).reduce((s, c) => s + conditionCount(c), 0)
}

export function depth(n: SegmentNode): number {
  if (n.cond || !n.children?.length) return 0
  return 1 + Math.max(...n.children.map(depth))
}

const filled = (s: string | undefined) => (s ?? '').trim() !== ''

/** internal/segment.MaxLastContactDays. */
export const MAX_LAST_CONTACT_DAYS = 3650

/**
 * What is wrong with c, the way internal/segment names it: the part (its
 * JSON name: `value`, `maxAge`) and a field code (internal/fielderr); null
 * when c is filled in enough for the Go side to accept it.
 */
export interface ConditionProblem {
  part: string
  code: string
  max?: number
}

const REQUIRED = 'errors.fieldRequired'
const CHOOSE = 'errors.fieldChoose'

export function conditionProblem(c: SegmentCondition): ConditionProblem | null {
  const need = (part: string, ok: boolean, code = REQUIRED): ConditionProblem | null => (ok ? null : { part, code })
  switch (c.kind) {
    case 'field':
      if (c.field === 'age') {
        if (!((c.minAge ?? 0) > 0 || (c.maxAge ?? 0) > 0)) return { part: 'minAge', code: REQUIRED }
        return need('maxAge', !(c.maxAge && c.minAge && c.maxAge < c.minAge), 'errors.fieldRange')
      }
      if (c.field === 'postal_prefix') return filled(c.value) ? need('value', /^[0-9-]+$/.test(c.value ?? ''), 'errors.fieldFormat') : { part: 'value', code: REQUIRED }
      return c.cmp === 'in' ? need('values', (c.values ?? []).some(filled)) : need('value', filled(c.value))
    case 'product':
      return need('productType', filled(c.productType) || filled(c.productCode)) ?? need('maturesToDays', (c.maturesFromDays ?? 0) <= (c.maturesToDays ?? 0), 'errors.fieldRange')
    case 'attribute':
      if (!filled(c.key)) return { part: 'key', code: REQUIRED }
      if (c.cmp === 'between') return need('values', (c.values ?? []).length === 2 && (c.values ?? []).every(filled))
      if (c.cmp === 'in') return need('values', (c.values ?? []).some(filled))
      return need('value', filled(c.value))
    case 'tag':
      return need('value', filled(c.value))
    case 'line':
    case 'consent':
      return need('value', filled(c.value), CHOOSE)
    case 'lastContact':
      if ((c.days ?? 0) <= 0) return { part: 'days', code: REQUIRED }
      return (c.days ?? 0) > MAX_LAST_CONTACT_DAYS ? { part: 'days', code: 'errors.fieldAtMost', max: MAX_LAST_CONTACT_DAYS } : null
    case 'survey':
      return need('survey', filled(c.survey), CHOOSE)
    case 'click':
      return need('campaign', filled(c.campaign), CHOOSE) ?? need('cmp', c.cmp === 'clicked' || c.cmp === 'not_clicked', CHOOSE)
    case 'form':
      return need('form', filled(c.form), CHOOSE) ?? (c.question ? need('values', (c.values ?? []).length > 0, CHOOSE) : null)
    default:
      return { part: 'kind', code: CHOOSE } // a kind this editor does not know
  }
}

/** Whether c is filled in enough for the Go side to accept it. */
export function conditionComplete(c: SegmentCondition): boolean {
  return conditionProblem(c) === null
}

/**
 * The fielderr path of the node at path in a tree held under prefix
 * (`rules` + [2, 0] → `rules.children.2.children.0`).
 */
export function nodeField(prefix: string, path: Path): string {
  return [prefix, ...path.map((i) => `children.${i}`)].filter((p) => p !== '').join('.')
}

/** Every incomplete condition of the tree as a wrong field (its path under prefix). */
export function treeProblems(n: SegmentNode, prefix: string, path: Path = []): { field: string; code: string; max?: number }[] {
  if (n.cond) {
    const p = conditionProblem(n.cond)
    return p ? [{ field: `${nodeField(prefix, path)}.cond.${p.part}`, code: p.code, ...(p.max ? { max: p.max } : {}) }] : []
  }
  return (n.children ?? []).flatMap((c, i) => treeProblems(c, prefix, [...path, i]))
}

/** The child indexes of a fielderr path under prefix (`rules.children.2.children.0.cond.value` → [2, 0]). */
export function pathOfField(prefix: string, field: string): number[] | null {
  const rest = prefix === '' ? field : field === prefix ? '' : field.startsWith(`${prefix}.`) ? field.slice(prefix.length + 1) : null
  if (rest === null) return null
  const out: number[] = []
  const parts = rest === '' ? [] : rest.split('.')
  for (let i = 0; i + 1 < parts.length && parts[i] === 'children'; i += 2) out.push(Number(parts[i + 1]))
  return out
}

/**
 * The tree without the conditions still being typed (and the groups left
 * empty by that), so the live count follows what is complete. The root stays
 * a group: an empty AND matches every customer.
 */
export function completeTree(n: SegmentNode): SegmentNode {
  const prune = (x: SegmentNode): SegmentNode | null => {
    if (x.cond) return conditionComplete(x.cond) ? x : null
    const children = (x.children ?? []).map(prune).filter((c): c is SegmentNode => c !== null)
    if (children.length === 0) return null
    return { ...x, children }
  }
  return prune(n) ?? { op: n.op ?? 'and', children: [] }
}

/** Incomplete conditions (to show "N conditions are not filled in yet"). */
export function incompleteCount(n: SegmentNode): number {
  if (n.cond) return conditionComplete(n.cond) ? 0 : 1
  return (n.children ?? []).reduce((s, c) => s + incompleteCount(c), 0)
}

// ------------------------------------------------------------------ SMS ----

const SMS_SINGLE = 70
const SMS_MULTI = 67
const SMS_MAX_PARTS = 4
const GSM_SINGLE = 160
const GSM_MULTI = 153

/** internal/campaign.MeasureSMS: the length as the carrier bills it. */
export function measureSms(text: string): CampaignSMSLength {
  const chars = [...text]
  let n = chars.length
  const ucs2 = chars.some((ch) => {
    const cp = ch.codePointAt(0) ?? 0
    return cp > 0x7e || (cp < 0x20 && ch !== '\n' && ch !== '\r')
  })
  let single = GSM_SINGLE
  let multi = GSM_MULTI
  if (ucs2) {
    single = SMS_SINGLE
    multi = SMS_MULTI
    n += chars.filter((ch) => (ch.codePointAt(0) ?? 0) > 0xffff).length
  }
  const parts = n > single ? Math.ceil(n / multi) : 1
  return { chars: n, parts, ucs2, maxChars: multi * SMS_MAX_PARTS, tooLong: parts > SMS_MAX_PARTS }
}

/** What the counter under the SMS text shows. */
export function smsCounter(l: CampaignSMSLength): { key: string; named: Record<string, number> ; level: 'ok' | 'warn' | 'error' } {
  const named = { n: l.chars, parts: l.parts, max: l.maxChars, single: l.ucs2 ? SMS_SINGLE : GSM_SINGLE }
  if (l.tooLong) return { key: 'campaigns.sms.counterTooLong', named, level: 'error' }
  if (l.parts > 1) return { key: 'campaigns.sms.counterParts', named, level: 'warn' }
  return { key: 'campaigns.sms.counterOne', named, level: 'ok' }
}

// ------------------------------------------------------------ channels ----

export const ALL_CHANNELS: string[] = ['line', 'email', 'sms']

/** Moves ch one place earlier (dir -1) or later (+1) in the order. */
export function moveChannel(order: string[], ch: string, dir: -1 | 1): string[] {
  const i = order.indexOf(ch)
  const j = i + dir
  if (i < 0 || j < 0 || j >= order.length) return order
  const out = [...order]
  ;[out[i], out[j]] = [out[j] as string, out[i] as string]
  return out
}

/** Adds ch at the end or removes it, keeping the order of the others. */
export function toggleChannel(order: string[], ch: string, on: boolean): string[] {
  if (on) return order.includes(ch) ? order : [...order, ch]
  return order.filter((c) => c !== ch)
}

// ------------------------------------------------------------ schedule ----

/** "YYYY-MM-DDTHH:mm" of instant ms as wall time in timeZone (what ScheduleCampaign takes). */
export function wallTime(ms: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(ms))
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '00'
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}`
}

/** Sent share of a report for the progress bar (0–100). */
export function progressPercent(channels: { planned: number; sent: number; failed: number; uncertain: number }[]): number {
  const planned = channels.reduce((s, c) => s + c.planned, 0)
  if (planned === 0) return 0
  const done = channels.reduce((s, c) => s + c.sent + c.failed + c.uncertain, 0)
  return Math.min(100, Math.floor((100 * done) / planned))
}
