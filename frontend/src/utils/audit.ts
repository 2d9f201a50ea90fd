import { errorKey } from '../i18n/errors'
import { personName } from './names'

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
  'sandbox.control',
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
  // Branch seats (internal/seat/primary).
  'seat.code',
  'seat.pair',
  'seat.pair_refused',
  'seat.revoke',
  'seat.firewall_allow',
  // Inflow routes (internal/routes).
  'route.create',
  'route.update',
  'route.archive',
  'route.export',
  // Web forms (internal/forms).
  'form.create',
  'form.update',
  'form.publish',
  'form.archive',
  'form.answer',
  'form.reject',
  'form.results',
  'form.export',
  'form.settings',
  'form.prefill_send',
  // Consultation booking (internal/booking).
  'booking.type_create',
  'booking.type_update',
  'booking.hours',
  'booking.closed_day',
  'booking.create',
  'booking.cancel',
  'booking.reschedule',
  'booking.no_show',
  'booking.export',
  'booking.reject',
  'booking.settings',
] as const

/** Action groups (the part before the dot), in the order the filter lists them. */
export const AUDIT_GROUPS = [
  'auth',
  'access',
  'staff',
  'settings',
  'channel',
  'relay',
  'sandbox',
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
  'route',
  'form',
  'booking',
  'import',
  'deadletter',
  'audit',
  'backup',
  'recovery',
  'db',
  'data',
  'app',
  'seat',
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

/**
 * The actor as a person reads it: staff by display name (the Go side's
 * names for this page, else the actors store), system and CLI actors named.
 */
export function actorLabel(t: T, actor: string, names: Record<string, string> = {}): string {
  return names[actor] ?? personName(actor, t)
}

/**
 * The target: staff by display name, customers by customer number (the
 * report's names; an erased customer has none), settings by their screen
 * label; rich-menu designs and sync runs by what they are, not their IDs.
 */
export function targetLabel(t: T, te: TE, action: string, target: string, names: Record<string, string> = {}): string {
  if (!target) return ''
  if (action === 'settings.change') return lookup(t, te, 'audit.settingNames', target) ?? target
  if (target.startsWith('staff:')) return t('audit.targets.staff', { name: names[target] ?? personName(target, t) })
  if (target.startsWith('customer:')) return names[target] ? t('audit.targets.customer', { no: names[target] }) : t('audit.targets.customerGone')
  if (target.startsWith('richmenu:')) return t(target === 'richmenu:assignments' ? 'audit.targets.richmenuAssignments' : target.startsWith('richmenu:sync:') ? 'audit.targets.richmenuSync' : 'audit.targets.richmenu')
  if (target === 'routes') return t('audit.targets.routes')
  if (target === 'forms') return t('audit.targets.forms')
  if (target === 'bookings' || target === 'booking_hours') return t(`audit.targets.${target}`)
  const m = /^(conversation|import|attribute|tag|campaign|segment|automation|survey|seat|route|form|booking|booking_type):(.+)$/.exec(target)
  if (!m) return target
  const named = m[1] === 'attribute' || m[1] === 'tag' || m[1] === 'seat'
  return named ? t(`audit.targets.${m[1]}`, { name: m[2] }) : t(`audit.targets.${m[1]}`, { n: m[2] })
}

export interface DetailItem {
  key: string
  label: string
  value: string
}

const LONG_HEX = /^[0-9a-f]{20,}$/i

/**
 * Details that are internal identifiers (LINE's menu IDs, key IDs, file
 * hashes, call counts): kept in the record and its CSV export, not shown.
 */
const HIDDEN_KEYS = new Set(['lineMenuId', 'replaces', 'calls', 'keyId', 'oldKeyId', 'newKeyId', 'sha256', 'auditHead', 'timeZone', 'default', 'originalContentUrl', 'previewImageUrl', 'codeId'])

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
      return value === 'self' ? t('audit.bySelf') : personName(value, t)
    case 'kind':
    case 'type':
      // A file's media type ("image/png") as people say it.
      return /^image\/[a-z]+$/.test(value) ? t('audit.imageType', { type: value.slice(6).toUpperCase() }) : value === 'customers' || value === 'contracts' ? t(`import.kind.${value}Short`) : value
    case 'source':
    case 'staff':
      return personName(value, t)
    case 'fields':
      // A prefilled link's customer fields (form.prefill_send), never values.
      return value
        .split(',')
        .filter(Boolean)
        .map((f) => lookup(t, te, 'webforms.prefillFields', f) ?? f)
        .join('、')
    case 'expires':
      // Unix ms, shown in Japan time (the branch's) in either language.
      return /^\d+$/.test(value) ? new Date(Number(value) + 9 * 3600 * 1000).toISOString().slice(0, 16).replace('T', ' ') : value
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
    case 'state':
      return lookup(t, te, 'audit.states', value) ?? value
    case 'resumed':
      return value === 'true' ? t('audit.yes') : value === 'false' ? t('audit.no') : value
    case 'revision':
    case 'version':
      return /^\d+$/.test(value) ? t('audit.revisionN', { n: value }) : value
    case 'planned':
    case 'applied':
      return /^\d+$/.test(value) ? t('audit.people', { n: value }) : value
    case 'routeTarget':
      return lookup(t, te, 'routes.target', value) ?? value
    case 'what':
      return lookup(t, te, 'routes.exportWhat', value) ?? value
    case 'bytes':
      return /^\d+$/.test(value) ? `${Math.max(1, Math.round(Number(value) / 1024)).toLocaleString()} KB` : value
    default:
      return value
  }
}

/** An action filter as recorded ("auth." for a group, or one action) in words. */
function filterLabel(t: T, te: TE, value: string): string {
  if (value.endsWith('.')) return lookup(t, te, 'audit.groups', value.slice(0, -1)) ?? value
  return actionLabel(t, te, value)
}

/** Detail pairs with translated names and, where simple, translated values. */
export function detailItems(t: T, te: TE, action: string, detail: Record<string, string> | null | undefined): DetailItem[] {
  if (!detail) return []
  // Imports record counts under the names the import screen shows; an
  // audit export its range and filter.
  const counts = action.startsWith('import.')
  const exported = action === 'audit.export'
  return Object.entries(detail)
    .filter(([key, raw]) => !HIDDEN_KEYS.has(key) && !LONG_HEX.test(String(raw ?? '')))
    .map(([key, raw]) => {
      const value = exported && key === 'actor' ? personName(String(raw), t) : exported && key === 'action' ? filterLabel(t, te, String(raw)) : detailValue(t, te, key, String(raw ?? ''))
      const label = (counts ? lookup(t, te, 'import.counts', key) : null) ?? (exported ? lookup(t, te, 'audit.exportKeys', key) : null) ?? lookup(t, te, 'audit.detailKeys', key) ?? lookup(t, te, 'audit.detailKeys', 'other') ?? key
      return { key, label, value }
    })
}

/** The detail exactly as recorded, for auditors (tooltip, CSV). */
export function rawDetail(detail: Record<string, string> | null | undefined): string {
  return detail ? Object.entries(detail).map(([k, v]) => `${k}=${v}`).join(' ') : ''
}
