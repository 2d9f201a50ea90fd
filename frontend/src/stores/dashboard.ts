import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, type Dashboard } from '../api'

/**
 * The friends dashboard as last read: LINE's friend counts and
 * demographics, Tsunagu's own counts, the month's quota and its forecast.
 * Errors are thrown to the view, which words them.
 */
export const useDashboard = defineStore('dashboard', () => {
  const data = ref<Dashboard | null>(null)
  const loading = ref(false)
  const checking = ref(false)

  async function load(): Promise<void> {
    loading.value = true
    try {
      data.value = await api.Dashboard()
    } finally {
      loading.value = false
    }
  }

  /** Asks LINE now for the figures that are due, then reloads. */
  async function checkNow(): Promise<void> {
    checking.value = true
    try {
      data.value = await api.RefreshDashboard()
    } finally {
      checking.value = false
    }
  }

  return { data, loading, checking, load, checkNow }
})
