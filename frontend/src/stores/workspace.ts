import { defineStore } from 'pinia'
import { ref, watch, type Ref } from 'vue'
import { useSession } from './session'

/**
 * Where the person was: the screen, the open conversation, an open editor.
 * A lock unmounts the app (no customer data stays in the page), so the
 * screens keep their place here and take it back after the unlock (issue
 * 19). Only IDs and screen names, in memory, per staff member: another
 * person signing in starts afresh.
 */
export const useWorkspace = defineStore('workspace', () => {
  const owner = ref('')
  const places = ref<Record<string, unknown>>({})

  function mine(): Record<string, unknown> {
    const who = useSession().state?.staff?.login ?? ''
    if (owner.value !== who) {
      owner.value = who
      places.value = {}
    }
    return places.value
  }

  /**
   * A ref whose value outlives the component: restored on its next mount
   * for the same person, else `initial`.
   */
  function keep<T>(name: string, initial: T): Ref<T> {
    const store = mine()
    const r = ref((name in store ? store[name] : initial) as T) as Ref<T>
    watch(r, (v) => (mine()[name] = v), { immediate: true })
    return r
  }

  function get<T>(name: string): T | undefined {
    return mine()[name] as T | undefined
  }

  function set(name: string, v: unknown): void {
    mine()[name] = v
  }

  return { keep, get, set }
})
