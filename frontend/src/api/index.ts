export * from './types'
export { api, onEvent, onConnection, transport, setTransport } from './client'
export { ApiError, toApiError, toErrorCode, CLIENT_CODES } from './errors'
export type { Transport, ConnectionState, Unsubscribe } from './transport'
