import type { Component } from 'vue'
import InboxView from './views/InboxView.vue'
import CustomersView from './views/CustomersView.vue'
import ImportView from './views/ImportView.vue'
import StaffView from './views/StaffView.vue'
import AuditView from './views/AuditView.vue'
import BackupView from './views/BackupView.vue'

/**
 * The screens in the left navigation rail. A feature adds its screen here
 * (one entry, one component under src/views/) and its label under `nav.*` in
 * both catalogs. Every view receives the `sandbox` prop. `permission` (a
 * facade permission, see internal/auth) hides the entry from roles without
 * it; the Go side refuses the calls regardless.
 */
export interface NavItem {
  id: string
  labelKey: string
  icon: 'inbox' | 'user' | 'users' | 'upload' | 'shield' | 'folder' | 'chat' | 'settings' | 'clock'
  component: Component
  permission?: string
}

export const navItems: NavItem[] = [
  { id: 'inbox', labelKey: 'nav.inbox', icon: 'inbox', component: InboxView, permission: 'inbox.read' },
  { id: 'customers', labelKey: 'nav.customers', icon: 'users', component: CustomersView, permission: 'customers.read' },
  { id: 'import', labelKey: 'nav.import', icon: 'upload', component: ImportView, permission: 'customers.import' },
  { id: 'staff', labelKey: 'nav.staff', icon: 'user', component: StaffView, permission: 'staff' },
  { id: 'audit', labelKey: 'nav.audit', icon: 'shield', component: AuditView, permission: 'audit.read' },
  { id: 'backup', labelKey: 'nav.backup', icon: 'folder', component: BackupView, permission: 'backup' },
]
