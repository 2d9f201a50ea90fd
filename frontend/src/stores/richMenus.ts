import { defineStore } from 'pinia'
import { ref } from 'vue'

/**
 * Rich menu changes other views must follow: the sandbox phone shows the
 * menu LINE would show, so it reloads when a publish or sync ran.
 */
export const useRichMenus = defineStore('richMenus', () => {
  /** Bumped after every publish or sync (successful or not). */
  const revision = ref(0)
  function changed(): void {
    revision.value++
  }
  return { revision, changed }
})
