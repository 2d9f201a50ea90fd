// Rules of automated messages the UI needs before asking the Go side
// (internal/automation enforces them again).
import type { AutomationRule } from './contract.gen'

/** Whether the current version carries an approval by someone other than its author. */
export function isApproved(a: Pick<AutomationRule, 'approvedBy' | 'author' | 'approvedVersion' | 'version'>): boolean {
  return a.approvedBy !== '' && a.approvedBy !== a.author && a.approvedVersion === a.version
}
