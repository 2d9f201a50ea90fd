import type { Component } from 'vue'
import InboxView from './views/InboxView.vue'
import CustomersView from './views/CustomersView.vue'
import ImportView from './views/ImportView.vue'
import StaffView from './views/StaffView.vue'
import AuditView from './views/AuditView.vue'
import BackupView from './views/BackupView.vue'
import AboutView from './views/AboutView.vue'
import InboxSettingsView from './views/InboxSettingsView.vue'
import SegmentsView from './views/SegmentsView.vue'
import CampaignsView from './views/CampaignsView.vue'
import DeliverySettingsView from './views/DeliverySettingsView.vue'
import RichMenusView from './views/RichMenusView.vue'
import AutomationsView from './views/AutomationsView.vue'
import SurveysView from './views/SurveysView.vue'
import RoutesView from './views/RoutesView.vue'
import WebFormsView from './views/WebFormsView.vue'
import DashboardView from './views/DashboardView.vue'
import BookingView from './views/BookingView.vue'

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
  icon: 'inbox' | 'user' | 'users' | 'upload' | 'shield' | 'folder' | 'chat' | 'settings' | 'clock' | 'filter' | 'send' | 'mail' | 'chart'
  component: Component
  permission?: string
}

export const navItems: NavItem[] = [
  { id: 'inbox', labelKey: 'nav.inbox', icon: 'inbox', component: InboxView, permission: 'inbox.read' },
  { id: 'customers', labelKey: 'nav.customers', icon: 'users', component: CustomersView, permission: 'customers.read' },
  { id: 'import', labelKey: 'nav.import', icon: 'upload', component: ImportView, permission: 'customers.import' },
  { id: 'segments', labelKey: 'segments.nav', icon: 'filter', component: SegmentsView, permission: 'drafts' },
  { id: 'campaigns', labelKey: 'campaigns.nav', icon: 'send', component: CampaignsView, permission: 'drafts' },
  { id: 'automations', labelKey: 'automations.nav', icon: 'clock', component: AutomationsView, permission: 'drafts' },
  { id: 'routes', labelKey: 'routes.nav', icon: 'filter', component: RoutesView, permission: 'drafts' },
  { id: 'webforms', labelKey: 'webforms.nav', icon: 'mail', component: WebFormsView, permission: 'drafts' },
  { id: 'booking', labelKey: 'booking.nav', icon: 'clock', component: BookingView, permission: 'customers.read' },
  { id: 'dashboard', labelKey: 'dashboard.nav', icon: 'chart', component: DashboardView, permission: 'drafts' },
  { id: 'surveys', labelKey: 'surveys.nav', icon: 'chat', component: SurveysView, permission: 'customers.read' },
  { id: 'staff', labelKey: 'nav.staff', icon: 'user', component: StaffView, permission: 'staff' },
  { id: 'audit', labelKey: 'nav.audit', icon: 'shield', component: AuditView, permission: 'audit.read' },
  { id: 'backup', labelKey: 'nav.backup', icon: 'folder', component: BackupView, permission: 'backup' },
  { id: 'inbox-settings', labelKey: 'nav.inboxSettings', icon: 'chat', component: InboxSettingsView, permission: 'settings' },
  { id: 'delivery-settings', labelKey: 'delivery.nav', icon: 'mail', component: DeliverySettingsView, permission: 'settings' },
  { id: 'richmenus', labelKey: 'richmenus.nav', icon: 'settings', component: RichMenusView, permission: 'settings' },
  { id: 'about', labelKey: 'about.nav', icon: 'settings', component: AboutView }, // every signed-in role
]
