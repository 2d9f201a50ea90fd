import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '../api'

/** How soon an unknown staff actor may ask the Go side again. */
const RELOAD_AFTER_MS = 5_000

/**
 * Who a recorded actor ("staff:tanaka") is: the staff display names the Go
 * side resolves in one place (auth.Service.ActorNames). Every screen that
 * shows who imported, approved, recorded or wrote something asks here, so
 * none shows a login or an actor code. A staff actor not known yet (an
 * account created since) triggers one reload.
 */
export const useActors = defineStore('actors', () => {
  const names = ref<Record<string, string>>({})
  let loadedAt = 0
  let loading: Promise<void> | null = null

  function load(): Promise<void> {
    loading ??= api
      .ActorNames()
      .then((n) => {
        names.value = n
      })
      .catch(() => {
        // Signed out or locked: the names come with the next screen.
      })
      .finally(() => {
        loadedAt = Date.now()
        loading = null
      })
    return loading
  }

  /** The display name of a staff actor, or null for other actors. */
  function staffName(actor: string): string | null {
    if (!actor.startsWith('staff:')) return null
    const n = names.value[actor]
    if (n) return n
    if (!loading && Date.now() - loadedAt > RELOAD_AFTER_MS) void load()
    // Until the names arrive (or for an account that no longer exists):
    // the login, never the actor code.
    return actor.slice('staff:'.length)
  }

  function clear() {
    names.value = {}
    loadedAt = 0
  }

  return { names, load, staffName, clear }
})
