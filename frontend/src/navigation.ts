import type { Component } from 'vue'
import InboxView from './views/InboxView.vue'

/**
 * The screens in the left navigation rail. A feature adds its screen here
 * (one entry, one component under src/views/) and its label under `nav.*` in
 * both catalogs. Every view receives the `sandbox` prop.
 */
export interface NavItem {
  id: string
  labelKey: string
  icon: 'inbox' | 'user' | 'shield' | 'folder' | 'chat' | 'settings' | 'clock'
  component: Component
}

export const navItems: NavItem[] = [{ id: 'inbox', labelKey: 'nav.inbox', icon: 'inbox', component: InboxView }]
