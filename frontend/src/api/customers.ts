// Wire types and calls of the customer features (app/facade/customers.go,
// internal/customer, internal/importer, internal/export).

export interface Customer {
  id: number
  customerNo: string
  name: string
  nameKana: string
  birthDate: string
  gender: '' | 'male' | 'female' | 'other'
  postalCode: string
  address: string
  branch: string
  staffInCharge: string
  status: 'active' | 'inactive'
  phone: string
  email: string
  lineLinked: boolean
  createdAt: number
  updatedAt: number
}

export interface ContactPoint {
  kind: 'phone' | 'mobile' | 'email'
  value: string
  source: string
}

export interface Consent {
  channel: 'line' | 'email' | 'sms' | 'postal'
  granted: boolean
  source: string
  recordedAt: number
}

export interface Product {
  id: number
  type: string
  productCode: string
  openedOn: string
  maturesOn: string
  status: string
  amountBand: string
  accountNo: string
  source: 'import' | 'manual'
}

export interface CustomerAttribute {
  key: string
  label: string
  type: string
  value: string
}

export interface LineLink {
  lineUserId: string
  displayName: string
  followState: 'following' | 'unfollowed' | 'unknown'
  linkedAt: number
  method: string
  /** 0: no conversation yet. */
  conversationId: number
}

export interface CustomerCard extends Customer {
  contactPoints: ContactPoint[]
  consents: Consent[]
  products: Product[]
  attributes: CustomerAttribute[]
  tags: string[]
  line: LineLink | null
}

export interface CustomerFilter {
  query?: string
  branch?: string
  status?: '' | 'active' | 'inactive'
  tag?: string
  lineLinked?: '' | 'yes' | 'no'
  /** A channel the customer consented to. */
  consent?: '' | 'line' | 'email' | 'sms' | 'postal'
  /** A channel without consent (refused or never asked). */
  noConsent?: '' | 'line' | 'email' | 'sms' | 'postal'
  limit?: number
  offset?: number
}

export interface CustomerPage {
  customers: Customer[]
  total: number
}

export interface CustomerFilters {
  branches: string[]
  tags: string[]
}

/** Header name → field (see ImportFields); unmapped headers are ignored. */
export type ImportMapping = Record<string, string>

export type ImportKind = 'customers' | 'contracts'

export interface ImportRequest {
  kind: ImportKind
  path: string
  encoding: 'auto' | 'utf-8' | 'sjis' | 'euc-jp'
  delimiter: '' | ',' | '\t'
  mapping: ImportMapping | null
  profile: string
  dryRun: boolean
  missing: 'keep' | 'inactivate'
}

export interface ImportIssue {
  line: number
  endLine: number
  column: string
  /** Masked: the shape of the value, never the value. */
  value: string
  reason: string
}

export interface ImportPreviewRow {
  line: number
  raw: string[]
  values: Record<string, string>
  issue: ImportIssue | null
}

export interface ImportPreview {
  kind: ImportKind
  encoding: string
  delimiter: string
  headers: string[]
  mapping: ImportMapping
  rows: ImportPreviewRow[]
  mappingError: string
}

export interface ImportResult {
  importId: number
  kind: ImportKind
  dryRun: boolean
  fileName: string
  sha256: string
  encoding: string
  delimiter: string
  headers: string[]
  mapping: ImportMapping
  rows: number
  new: number
  updated: number
  unchanged: number
  rejected: number
  missing: number
  inactivated: number
  issues: ImportIssue[]
  issuesTruncated: boolean
  seconds: number
  /** Set on a failed import (a Failure* code of internal/importer). */
  failure?: string
  failureLine?: number
}

export interface ImportProgress {
  /** '' while rows are read; 'missing' while customers absent from the file are looked for. */
  stage: '' | 'missing'
  rows: number
  bytes: number
  totalBytes: number
  rowsPerSec: number
  etaSeconds: number
  done: boolean
}

export interface ImportProfile {
  name: string
  kind: ImportKind | ''
  encoding: string
  delimiter: string
  mapping: ImportMapping
  updatedAt?: number
}

export interface ImportHistoryEntry {
  id: number
  kind: ImportKind
  startedAt: number
  finishedAt: number
  staff: string
  fileName: string
  sha256: string
  encoding: string
  profile: string
  missing: string
  rows: number
  new: number
  updated: number
  unchanged: number
  rejected: number
  inactivated: number
}

export interface ExportResult {
  /** Empty when the person cancelled the save dialog. */
  path: string
  rows: number
  replaced: number
  encoding: string
}

export type AttributeType = 'text' | 'number' | 'date' | 'boolean' | 'choice'

export interface AttributeDef {
  key: string
  label: string
  type: AttributeType
  choices: string[] | null
}

export interface AttributeDefInfo extends AttributeDef {
  customers: number
}

export interface TagInfo {
  name: string
  customers: number
}

export interface CustomerMethods {
  Customers(f: CustomerFilter): CustomerPage
  Customer(id: number): CustomerCard
  CustomerFilterOptions(): CustomerFilters
  PickImportFile(): string
  ImportFields(kind: ImportKind): string[]
  ImportPreview(req: ImportRequest): ImportPreview
  RunImport(req: ImportRequest): ImportResult
  CancelImport(): void
  SaveImportReport(lang: string): string
  ImportProfiles(): ImportProfile[]
  SaveImportProfile(p: ImportProfile): void
  ImportHistory(): ImportHistoryEntry[]
  ExportCustomers(encoding: 'utf-8-bom' | 'sjis'): ExportResult
  EraseCustomer(id: number): void
  AttributeDefs(): AttributeDefInfo[]
  DefineAttribute(d: AttributeDef): void
  DeleteAttribute(key: string): void
  TagList(): TagInfo[]
  CreateTag(name: string): void
  DeleteTag(name: string): void
  SetCustomerConsent(customerId: number, channel: string, granted: boolean): void
  AddCustomerTag(customerId: number, tag: string): void
  RemoveCustomerTag(customerId: number, tag: string): void
  SetCustomerAttribute(customerId: number, key: string, value: string): void
}

export interface CustomerEvents {
  'import:progress': ImportProgress
}

type Caller = <M extends keyof CustomerMethods>(
  method: M,
  ...args: Parameters<CustomerMethods[M]>
) => Promise<ReturnType<CustomerMethods[M]>>

export function customersApi(call: Caller) {
  return {
    Customers: (f: CustomerFilter) => call('Customers', f),
    Customer: (id: number) => call('Customer', id),
    CustomerFilterOptions: () => call('CustomerFilterOptions'),
    PickImportFile: () => call('PickImportFile'),
    ImportFields: async (kind: ImportKind) => (await call('ImportFields', kind)) ?? [],
    ImportPreview: (req: ImportRequest) => call('ImportPreview', req),
    RunImport: (req: ImportRequest) => call('RunImport', req),
    CancelImport: () => call('CancelImport'),
    SaveImportReport: (lang: string) => call('SaveImportReport', lang),
    ImportProfiles: async () => (await call('ImportProfiles')) ?? [],
    SaveImportProfile: (p: ImportProfile) => call('SaveImportProfile', p),
    ImportHistory: async () => (await call('ImportHistory')) ?? [],
    ExportCustomers: (encoding: 'utf-8-bom' | 'sjis') => call('ExportCustomers', encoding),
    EraseCustomer: (id: number) => call('EraseCustomer', id),
    AttributeDefs: async () => (await call('AttributeDefs')) ?? [],
    DefineAttribute: (d: AttributeDef) => call('DefineAttribute', d),
    DeleteAttribute: (key: string) => call('DeleteAttribute', key),
    TagList: async () => (await call('TagList')) ?? [],
    CreateTag: (name: string) => call('CreateTag', name),
    DeleteTag: (name: string) => call('DeleteTag', name),
    SetCustomerConsent: (customerId: number, channel: string, granted: boolean) => call('SetCustomerConsent', customerId, channel, granted),
    AddCustomerTag: (customerId: number, tag: string) => call('AddCustomerTag', customerId, tag),
    RemoveCustomerTag: (customerId: number, tag: string) => call('RemoveCustomerTag', customerId, tag),
    SetCustomerAttribute: (customerId: number, key: string, value: string) => call('SetCustomerAttribute', customerId, key, value),
  }
}
