// Wire types and calls of the security layer (app/facade/auth.go).

export type Role = 'admin' | 'approver' | 'operator' | 'auditor' | 'agency'
export const ROLES: Role[] = ['admin', 'approver', 'operator', 'auditor', 'agency']

export interface AuthState {
  firstRun: boolean
  signedIn: boolean
  locked: boolean
  staff?: { login: string; displayName: string; role: Role }
  /** Permissions of the role (the Go side enforces them regardless). */
  permissions: string[]
  idleMinutes: number
  masked: boolean
}

export interface Staff {
  id: number
  login: string
  displayName: string
  role: Role
  active: boolean
  lockedUntil: number
  createdAt: number
  deactivatedAt: number
}

export interface NewStaff {
  login: string
  displayName: string
  role: Role
  password: string
}

export interface AuditEntry {
  seq: number
  at: number
  actor: string
  action: string
  target: string
  detail?: Record<string, string>
  prevHash: string
  hash: string
}

export interface AuditFilter {
  actor: string
  action: string
  target: string
  from: number
  to: number
  limit: number
  before: number
}

export interface AuditReport {
  entries: AuditEntry[]
  chain: { entries: number; head: string; ok: boolean; brokenAt?: number; reason?: string }
}

export interface SecurityMethods {
  AuthState(): AuthState
  CreateFirstAdmin(login: string, displayName: string, password: string): AuthState
  SignIn(login: string, password: string): AuthState
  SignOut(): void
  Lock(): void
  Unlock(password: string): AuthState
  Heartbeat(): void
  ChangePassword(current: string, next: string): void
  ListStaff(): Staff[]
  CreateStaff(n: NewStaff): Staff
  SetStaffRole(id: number, role: string): void
  DeactivateStaff(id: number): void
  ReactivateStaff(id: number): void
  ResetStaffPassword(id: number, password: string): void
  SetIdleMinutes(minutes: number): void
  AuditEntries(f: AuditFilter): AuditReport
  ExportAudit(f: AuditFilter): string
  CreateRecoveryCode(): string
  BackupNow(): BackupInfo
  BackupSettings(): BackupSettings
  SetBackupSettings(s: BackupSettings): BackupSettings
  SetRetentionDays(days: number): void
}

export interface BackupInfo {
  path: string
  sizeBytes: number
  createdAt: number
  verified: boolean
}

export interface BackupSettings {
  dir: string
  keep: number
  intervalHours: number
  lastBackupAt: number
  recoveryCodeCreatedAt: number
  retentionDays: number
}

type Caller = <M extends keyof SecurityMethods>(
  method: M,
  ...args: Parameters<SecurityMethods[M]>
) => Promise<ReturnType<SecurityMethods[M]>>

export function securityApi(call: Caller) {
  return {
    AuthState: () => call('AuthState'),
    CreateFirstAdmin: (login: string, displayName: string, password: string) =>
      call('CreateFirstAdmin', login, displayName, password),
    SignIn: (login: string, password: string) => call('SignIn', login, password),
    SignOut: () => call('SignOut'),
    Lock: () => call('Lock'),
    Unlock: (password: string) => call('Unlock', password),
    Heartbeat: () => call('Heartbeat'),
    ChangePassword: (current: string, next: string) => call('ChangePassword', current, next),
    ListStaff: async () => (await call('ListStaff')) ?? [],
    CreateStaff: (n: NewStaff) => call('CreateStaff', n),
    SetStaffRole: (id: number, role: Role) => call('SetStaffRole', id, role),
    DeactivateStaff: (id: number) => call('DeactivateStaff', id),
    ReactivateStaff: (id: number) => call('ReactivateStaff', id),
    ResetStaffPassword: (id: number, password: string) => call('ResetStaffPassword', id, password),
    SetIdleMinutes: (minutes: number) => call('SetIdleMinutes', minutes),
    AuditEntries: (f: Partial<AuditFilter>) => call('AuditEntries', { ...emptyFilter, ...f }),
    ExportAudit: (f: Partial<AuditFilter>) => call('ExportAudit', { ...emptyFilter, ...f }),
    CreateRecoveryCode: () => call('CreateRecoveryCode'),
    BackupNow: () => call('BackupNow'),
    BackupSettings: () => call('BackupSettings'),
    SetBackupSettings: (s: BackupSettings) => call('SetBackupSettings', s),
    SetRetentionDays: (days: number) => call('SetRetentionDays', days),
  }
}

export const emptyFilter: AuditFilter = { actor: '', action: '', target: '', from: 0, to: 0, limit: 0, before: 0 }
