import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import { useSession } from './session'
import type { AlertPrefs } from '../composables/desktopNotify'

const DEFAULTS: AlertPrefs = { sound: true, desktop: true }
const KEY = 'tsunagu.newMessageAlerts.'

/**
 * Each staff member's choice of how new messages are announced (a chime, a
 * desktop notification), kept on this PC under their sign-in name, so that
 * one clerk turning the sound off does not silence the next one at the
 * same PC. Nothing about customers is stored.
 */
export const useAlerts = defineStore('alerts', () => {
  const session = useSession()
  const staffKey = computed(() => session.state?.staff?.login ?? '')
  const prefs = ref<AlertPrefs>({ ...DEFAULTS })

  function load() {
    prefs.value = { ...DEFAULTS }
    if (!staffKey.value) return
    try {
      const raw = localStorage.getItem(KEY + staffKey.value)
      const v = raw ? (JSON.parse(raw) as Partial<AlertPrefs>) : {}
      prefs.value = { sound: v.sound !== false, desktop: v.desktop !== false }
    } catch {
      // Unreadable: the defaults.
    }
  }
  watch(staffKey, load, { immediate: true })

  function set(p: Partial<AlertPrefs>) {
    prefs.value = { ...prefs.value, ...p }
    if (staffKey.value) localStorage.setItem(KEY + staffKey.value, JSON.stringify(prefs.value))
  }

  return { prefs, set }
})
