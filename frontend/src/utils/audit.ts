import { errorKey } from '../i18n/errors'

type T = (key: string, named?: Record<string, unknown>) => string
type TE = (key: string) => boolean

/**
 * Every action the backend records (internal/audit/audit.go, Action*).
 * A unit test checks this list against the Go constants and the catalogs.
 */
export const AUDIT_ACTIONS = [
  'auth.signin',
  'auth.signin_failed',
  'auth.signout',
  'auth.locked',
  'auth.unlocked',
  'auth.locked_out',
  'staff.first_admin',
  'staff.create',
  'staff.role',
  'staff.deactivate',
  'staff.reactivate',
  'staff.password',
  'settings.change',
  'channel.set',
  'channel.clear',
  'relay.enroll',
  'relay.disconnect',
  'relay.webhook_set',
  'message.send',
  'message.retry',
  'conversation.view',
  'audit.export',
  'backup.create',
  'backup.restore',
  'recovery.create',
  'recovery.restore',
  'db.key_rotate',
  'data.erase',
  'data.retention',
  'access.denied',
  // Features (internal/customer, internal/importer, internal/export).
  'customer.view',
  'customer.consent',
  'customer.link_line',
  'customer.unlink_line',
  'customer.product_add',
  'customer.attribute_define',
  'customer.attribute_set',
  'customer.tag_add',
  'customer.tag_remove',
  'customer.attribute_delete',
  'customer.tag_create',
  'customer.tag_delete',
  'customer.export',
  'customer.list',
  'import.run',
  'import.dry_run',
  'import.failed',
  // Webhook events the inbox could not store (internal/inbox).
  'deadletter.reprocess',
  'deadletter.discard',
  // Inbox (internal/inbox, internal/autoreply).
  'conversation.assign',
  'conversation.status',
  'conversation.note_add',
  'conversation.note_delete',
  'conversation.content_export',
  'canned_reply.save',
  'canned_reply.delete',
  'autoreply.rule_save',
  'autoreply.rule_delete',
  'autoreply.settings',
  // Linking (internal/linking).
  'linking.code_issue',
  'linking.code_revoke',
  'linking.code_rejected',
  'linking.code_accepted',
  'linking.identity_failed',
  'linking.code_invalidated',
  'linking.relink',
  // Updates (internal/update).
  'app.update_install',
  // Segments and campaigns (internal/segment, internal/campaign).
  'segment.save',
  'segment.delete',
  'campaign.create',
  'campaign.edit',
  'campaign.approve',
  'campaign.return',
  'campaign.request',
  'campaign.schedule',
  'campaign.send',
  'campaign.pause',
  'campaign.resume',
  'campaign.cancel',
  'campaign.finish',
  'campaign.export',
  // Rich menus (internal/richmenu).
  'richmenu.design_save',
  'richmenu.design_delete',
  'richmenu.design_image',
  'richmenu.assign',
  'richmenu.publish',
  'richmenu.sync',
  // Automated messages (internal/automation).
  'automation.create',
  'automation.edit',
  'automation.approve',
  'automation.activate',
  'automation.pause',
  'automation.delete',
  'automation.send',
  // Surveys (internal/survey).
  'survey.save',
  'survey.status',
  'survey.delete',
  'survey.send',
  'survey.answer',
  'survey.import',
  'survey.results',
  'survey.export',
  'survey.complete',
] as const

/** Action groups (the part before the dot), in the order the filter lists them. */
export const AUDIT_GROUPS = [
  'auth',
  'access',
  'staff',
  'settings',
  'channel',
  'relay',
  'message',
  'conversation',
  'canned_reply',
  'autoreply',
  'customer',
  'linking',
  'segment',
  'campaign',
  'richmenu',
  'automation',
  'survey',
  'import',
  'deadletter',
  'audit',
  'backup',
  'recovery',
  'db',
  'data',
  'app',
] as const

/** Codes are catalog paths only if they are plain identifiers joined by dots. */
const SAFE_CODE = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/

function lookup(t: T, te: TE, prefix: string, code: string): string | null {
  if (!code || !SAFE_CODE.test(code)) return null
  const key = `${prefix}.${code}`
  return te(key) ? t(key) : null
}

/** Human label of an action; the raw code for actions the catalog does not know yet. */
export function actionLabel(t: T, te: TE, action: string): string {
  return lookup(t, te, 'audit.actions', action) ?? action
}

/** Filter options: all, then per group "group (all)" followed by its actions. */
export function actionOptions(t: T, te: TE) {
  return [
    { value: '', label: t('audit.allActions') },
    ...AUDIT_GROUPS.map((g) => ({
      type: 'group' as const,
      key: g,
      label: t(`audit.groups.${g}`),
      children: [
        { value: `${g}.`, label: t('audit.groupAll', { name: t(`audit.groups.${g}`) }) },
        ...AUDIT_ACTIONS.filter((a) => a.startsWith(`${g}.`)).map((a) => ({ value: a, label: actionLabel(t, te, a) })),
      ],
    })),
  ]
}

/** The actor as a person reads it: staff logins stay, system and CLI actors are named. */
export function actorLabel(t: T, actor: string): string {
  if (actor === 'system') return t('audit.actors.system')
  if (actor === 'unknown') return t('audit.actors.unknown')
  if (actor.startsWith('os:')) return t('audit.actors.os', { name: actor.slice(3) })
  if (actor.startsWith('recovery:')) return t('audit.actors.recovery', { name: actor.slice(9) })
  return actor
}

/** The target: staff, conversations and customers named; settings by their screen label. */
export function targetLabel(t: T, te: TE, action: string, target: string): string {
  if (!target) return ''
  if (action === 'settings.change') return lookup(t, te, 'audit.settingNames', target) ?? target
  const m = /^(staff|conversation|customer|import|attribute|tag|campaign|segment|automation):(.+)$/.exec(target)
  if (!m) return target
  const named = m[1] === 'staff' || m[1] === 'attribute' || m[1] === 'tag'
  return named ? t(`audit.targets.${m[1]}`, { name: m[2] }) : t(`audit.targets.${m[1]}`, { n: m[2] })
}

export interface DetailItem {
  key: string
  label: string
  value: string
  /** Full value when the shown one is shortened (hashes, key IDs). */
  full?: string
}

const LONG_HEX = /^[0-9a-f]{20,}$/i

const ENCODINGS: Record<string, string> = { 'utf-8': 'UTF-8', 'utf-8-bom': 'UTF-8 (BOM)', sjis: 'Shift_JIS', 'euc-jp': 'EUC-JP' }

function detailValue(t: T, te: TE, key: string, value: string): string {
  switch (key) {
    case 'channel':
      return lookup(t, te, 'customers.channel', value) ?? value
    case 'granted':
      return value === 'true' ? t('customers.consent.granted') : value === 'false' ? t('customers.consent.refused') : value
    case 'method':
      return lookup(t, te, 'customers.linkMethod', value) ?? value
    case 'encoding':
      return ENCODINGS[value] ?? value
    case 'profile':
      return value === '' ? t('audit.none') : value
    case 'role':
      return lookup(t, te, 'roles', value) ?? value
    case 'reason':
      return lookup(t, te, 'audit.reasons', value) ?? value
    case 'by':
      return value === 'self' ? t('audit.bySelf') : value
    case 'permission':
      return lookup(t, te, 'audit.permissions', value) ?? value
    case 'content':
      return lookup(t, te, 'conversation.kind', value) ?? value
    case 'status':
      return lookup(t, te, 'conversation.delivery', value) ?? value
    case 'error': {
      const k = errorKey(value)
      return k ? t(k) : value
    }
    case 'old':
    case 'new':
      return value === '' ? t('audit.none') : value
    default:
      return value
  }
}

/** Detail pairs with translated names and, where simple, translated values. */
export function detailItems(t: T, te: TE, action: string, detail: Record<string, string> | null | undefined): DetailItem[] {
  if (!detail) return []
  // Imports record counts under the names the import screen shows.
  const counts = action.startsWith('import.')
  return Object.entries(detail).map(([key, raw]) => {
    const value = detailValue(t, te, key, String(raw ?? ''))
    const label = (counts ? lookup(t, te, 'import.counts', key) : null) ?? lookup(t, te, 'audit.detailKeys', key) ?? key
    if (LONG_HEX.test(value)) return { key, label, value: `${value.slice(0, 12)}…`, full: value }
    return { key, label, value }
  })
}

/** The detail exactly as recorded, for auditors (tooltip, CSV). */
export function rawDetail(detail: Record<string, string> | null | undefined): string {
  return detail ? Object.entries(detail).map(([k, v]) => `${k}=${v}`).join(' ') : ''
}
