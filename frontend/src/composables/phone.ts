import { computed, reactive } from 'vue'
import { api, onEvent, toApiError, type PhoneMessage, type SimCustomer } from '../api'

/** State of the sandbox-only "customer's phone" simulator panel. */
export const phone = reactive({
  customers: [] as SimCustomer[],
  customersLoaded: false,
  selectedUserId: null as string | null,
  chat: [] as PhoneMessage[],
  chatLoading: false,
  sending: false,
  toggling: false,
  backgroundError: null as { err: unknown; at: number } | null,
})

export const selectedCustomer = computed<SimCustomer | null>(
  () => phone.customers.find((c) => c.userId === phone.selectedUserId) ?? null,
)

export async function loadCustomers(): Promise<void> {
  phone.customers = await api.SandboxCustomers()
  phone.customersLoaded = true
}

let chatToken = 0
export async function loadChat(): Promise<void> {
  const id = phone.selectedUserId
  if (!id) {
    phone.chat = []
    return
  }
  const token = ++chatToken
  const chat = await api.SandboxChat(id)
  if (token === chatToken && phone.selectedUserId === id) phone.chat = chat
}

export async function selectCustomer(userId: string): Promise<void> {
  if (phone.selectedUserId === userId) return
  phone.selectedUserId = userId
  phone.chat = []
  phone.chatLoading = true
  try {
    await loadChat()
  } finally {
    phone.chatLoading = false
  }
}

export async function sendAsCustomer(text: string): Promise<void> {
  const id = phone.selectedUserId
  if (!id) return
  phone.sending = true
  try {
    await api.SandboxSend(id, text)
    await loadChat()
  } finally {
    phone.sending = false
  }
}

/** Customer actions besides text: a sticker, a photo, a postback button. */
export type PhoneAction =
  | { kind: 'sticker'; packageId: string; stickerId: string }
  | { kind: 'image' }
  | { kind: 'postback'; label: string; data: string }

export async function actAsCustomer(action: PhoneAction): Promise<void> {
  const id = phone.selectedUserId
  if (!id) return
  phone.sending = true
  try {
    if (action.kind === 'sticker') await api.SandboxSendSticker(id, action.packageId, action.stickerId)
    else if (action.kind === 'image') await api.SandboxSendImage(id)
    else await api.SandboxPostback(id, action.label, action.data)
    await loadChat()
  } finally {
    phone.sending = false
  }
}

export async function toggleFollow(): Promise<void> {
  const c = selectedCustomer.value
  if (!c) return
  phone.toggling = true
  try {
    await api.SandboxFollow(c.userId, !c.following)
    await Promise.all([loadCustomers(), loadChat()])
  } finally {
    phone.toggling = false
  }
}

let subscribed: (() => void) | null = null
/** Subscribes to `sandbox:phone` while the panel is shown. */
export function startPhone(): () => void {
  if (!subscribed) {
    const off = onEvent('sandbox:phone', (p) => {
      const report = (err: unknown) => (phone.backgroundError = { err: toApiError(err), at: Date.now() })
      void loadCustomers().catch(report)
      if (!p || !p.userId || p.userId === phone.selectedUserId) void loadChat().catch(report)
    })
    subscribed = () => {
      off()
      subscribed = null
    }
  }
  return subscribed
}
