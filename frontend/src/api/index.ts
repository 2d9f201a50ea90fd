// The UI's one way to the Go side. The types, methods, permissions, error
// codes and events are generated from the Go side (contract.gen.ts, `make
// contract`); the modules beside it add behaviour only, never signatures.
export * from './contract.gen'
export { api, call, onEvent, onConnection, transport, setTransport, normalize, type Api } from './client'
export { ApiError, toApiError, toErrorCode, fieldErrors, CLIENT_CODES } from './errors'
export { isApproved } from './automations'
export { newSurvey, newQuestion, type QuestionType } from './surveys'
export { ROLES, emptyAuditFilter } from './security'
export { MAX_MESSAGE_LENGTH, MAX_IMAGE_BYTES } from './limits'
export type { Transport, ConnectionState, Unsubscribe } from './transport'
