import { enums, type AuditFilter, type AuthRole } from './contract.gen'

/** The roles, in the order the Go side lists them (auth.Roles). */
export const ROLES: readonly AuthRole[] = enums.AuthRole

/** An audit filter that filters nothing: spread a partial one over it. */
export const emptyAuditFilter: AuditFilter = { actor: '', action: '', target: '', from: 0, to: 0, limit: 0, before: 0 }
