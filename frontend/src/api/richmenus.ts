// Wire types and calls of per-segment rich menus (app/facade/richmenus.go,
// internal/richmenu). Timestamps are unix milliseconds.
import { transport } from './client'
import { notifySessionError } from './session-errors'

export type ActionType = 'postback' | 'message' | 'uri' | 'datetimepicker'

/** What a tap does (line.RichMenuAction). */
export interface RichMenuAction {
  type: ActionType
  label?: string
  data?: string
  displayText?: string
  text?: string
  uri?: string
  mode?: 'date' | 'time' | 'datetime' | ''
  initial?: string
  min?: string
  max?: string
}

/** One tap area in image pixels (richmenu.Area). */
export interface RichMenuArea {
  x: number
  y: number
  width: number
  height: number
  action: RichMenuAction
}

export interface RichMenuDesign {
  id: number
  name: string
  width: number
  height: number
  chatBarText: string
  selected: boolean
  areas: RichMenuArea[]
  imageType: string
  revision: number
  publishedRevision: number
  lineMenuId: string
  publishedAt: number
  updatedBy: string
  updatedAt: number
}

export interface RichMenuTemplate {
  key: string
  width: number
  height: number
  areas: RichMenuArea[]
}

export type RuleMatch = 'segment' | 'linked' | 'unlinked'

export interface RichMenuRule {
  match: RuleMatch
  segmentId?: number
  designId: number
}

export interface RichMenuAssignments {
  rules: RichMenuRule[]
  defaultDesignId: number
}

export interface RichMenuRun {
  id: number
  actor: string
  state: 'running' | 'done' | 'failed' | 'noop'
  planned: number
  applied: number
  calls: number
  resumed: boolean
  error?: string
  startedAt: number
  finishedAt: number
}

export interface RichMenuStatus {
  dirty: boolean
  pending: number
  lastRun: RichMenuRun | null
  users: Record<string, number>
}

export interface RichMenuPublishResult {
  publish: { created: number; current: number; orphans: number }
  sync: RichMenuRun
}

/** The menu a simulated customer's phone shows (facade.PhoneRichMenu). */
export interface PhoneRichMenu {
  shown: boolean
  width: number
  height: number
  chatBarText: string
  selected: boolean
  image: string
  areas: RichMenuArea[]
}

interface RichMenuMethods {
  RichMenuDesigns(): RichMenuDesign[]
  RichMenuTemplates(): RichMenuTemplate[]
  SaveRichMenuDesign(d: Partial<RichMenuDesign>): RichMenuDesign
  DeleteRichMenuDesign(id: number): void
  RichMenuImage(id: number): string
  UploadRichMenuImage(id: number, base64: string): RichMenuDesign
  UsePlaceholderRichMenuImage(id: number): RichMenuDesign
  RichMenuAssignments(): RichMenuAssignments
  SaveRichMenuAssignments(a: RichMenuAssignments): void
  PublishRichMenus(): RichMenuPublishResult
  SyncRichMenus(): RichMenuRun
  RichMenuStatus(): RichMenuStatus
  SandboxRichMenu(userId: string): PhoneRichMenu
}

function call<M extends keyof RichMenuMethods>(
  method: M,
  ...args: Parameters<RichMenuMethods[M]>
): Promise<ReturnType<RichMenuMethods[M]>> {
  return (transport().call(method, args) as Promise<ReturnType<RichMenuMethods[M]>>).catch((err: unknown) => {
    notifySessionError(err)
    throw err
  })
}

export const richMenusApi = {
  Designs: async () => (await call('RichMenuDesigns')) ?? [],
  Templates: async () => (await call('RichMenuTemplates')) ?? [],
  SaveDesign: (d: Partial<RichMenuDesign>) => call('SaveRichMenuDesign', d),
  DeleteDesign: (id: number) => call('DeleteRichMenuDesign', id),
  Image: (id: number) => call('RichMenuImage', id),
  UploadImage: (id: number, base64: string) => call('UploadRichMenuImage', id, base64),
  UsePlaceholder: (id: number) => call('UsePlaceholderRichMenuImage', id),
  Assignments: async () => {
    const a = await call('RichMenuAssignments')
    return { rules: a?.rules ?? [], defaultDesignId: a?.defaultDesignId ?? 0 }
  },
  SaveAssignments: (a: RichMenuAssignments) => call('SaveRichMenuAssignments', a),
  Publish: () => call('PublishRichMenus'),
  Sync: () => call('SyncRichMenus'),
  Status: () => call('RichMenuStatus'),
  Sandbox: (userId: string) => call('SandboxRichMenu', userId),
}

/** Fired on window after a publish or sync, so the sandbox phone reloads its menu. */
export const RICH_MENUS_CHANGED = 'tsunagu:richmenus-changed'

/** Maps a rich menu error code to its message key (richmenus.errors.*), null for others. */
export function richMenuErrorKey(code: string): string | null {
  const m = /^errors\.(richMenu(Invalid|InUse|NoImage|Busy|Offline))$/.exec(code)
  return m?.[1] ? `richmenus.errors.${m[1]}` : null
}
