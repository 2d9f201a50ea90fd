import { onScopeDispose, ref } from 'vue'

/** Current time, refreshed every `intervalMs` so relative times stay fresh. */
export function useNow(intervalMs = 30_000) {
  const now = ref(Date.now())
  const timer = setInterval(() => (now.value = Date.now()), intervalMs)
  onScopeDispose(() => clearInterval(timer))
  return now
}
