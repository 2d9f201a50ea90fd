import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, type RoutesRoute, type RoutesReport, type RoutesAccount } from '../api'

/**
 * Inflow routes (流入経路): the list, the official account (the poster's
 * heading) and the report, shared by the list, the detail and the report
 * panels of the 流入経路 screen.
 */
export const useRoutes = defineStore('routes', () => {
  const list = ref<RoutesRoute[]>([])
  const showArchived = ref(false)
  const account = ref<RoutesAccount | null>(null)
  const report = ref<RoutesReport | null>(null)
  const reportDays = ref(30)

  async function load(): Promise<void> {
    list.value = await api.Routes(showArchived.value)
  }
  async function loadAccount(): Promise<void> {
    account.value = await api.RouteAccount()
  }
  async function loadReport(): Promise<void> {
    report.value = await api.RouteReport(reportDays.value)
  }
  /** Puts a created or changed route in the list. */
  function put(r: RoutesRoute): void {
    const i = list.value.findIndex((x) => x.id === r.id)
    if (i >= 0) list.value.splice(i, 1, r)
    else list.value.unshift(r)
  }
  async function archive(id: number): Promise<void> {
    await api.ArchiveRoute(id)
    await load()
  }
  return { list, showArchived, account, report, reportDays, load, loadAccount, loadReport, put, archive }
})
