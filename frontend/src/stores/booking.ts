import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, type BookingClosedDay, type BookingReminder, type BookingSettings, type BookingSpan, type BookingType, type InboxAssignee } from '../api'

/**
 * Consultation booking's settings as the staff screens share them: the
 * types, the hours, the branch's closed days, its settings and the staff
 * who can take consultations (the inbox's assignees: active staff, names
 * only). The calendar, the settings and the inbox's booking dialog read
 * here; each reloads what it changed.
 */
export const useBooking = defineStore('booking', () => {
  const types = ref<BookingType[]>([])
  const hours = ref<BookingSpan[]>([])
  const closedDays = ref<BookingClosedDay[]>([])
  const settings = ref<BookingSettings>({ branch: '', phone: '' })
  const staff = ref<InboxAssignee[]>([])
  const reminder = ref<BookingReminder | null>(null)

  const activeTypes = computed(() => types.value.filter((t) => t.active))
  function typeName(id: number): string {
    return types.value.find((t) => t.id === id)?.name ?? ''
  }
  function staffName(id: number): string {
    return staff.value.find((s) => s.id === id)?.displayName ?? ''
  }

  async function loadTypes() {
    types.value = await api.BookingTypes()
  }
  async function loadStaff() {
    staff.value = await api.Assignees()
  }
  async function loadCalendar() {
    const [h, c] = await Promise.all([api.BookingHours(), api.BookingClosedDays()])
    hours.value = h
    closedDays.value = c
  }
  async function loadSettings() {
    settings.value = await api.BookingSettings()
  }
  async function loadReminder() {
    reminder.value = await api.BookingReminder()
  }
  async function loadAll() {
    await Promise.all([loadTypes(), loadStaff(), loadCalendar(), loadSettings(), loadReminder()])
  }

  return { types, hours, closedDays, settings, staff, reminder, activeTypes, typeName, staffName, loadTypes, loadStaff, loadCalendar, loadSettings, loadReminder, loadAll }
})
