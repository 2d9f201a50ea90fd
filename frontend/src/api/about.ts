// Wire types and calls of the About screen and the update check
// (app/facade/update.go, internal/version, internal/update).

export interface AboutInfo {
  /** git describe of the build (v1.2.3, v1.2.3-4-gabcdef0, or a bare commit for test builds). */
  version: string
  /** x.y.z.w, empty when the build has no release version (updates then off). */
  numeric: string
  commit: string
  date: string
  goVersion: string
  wails: string
  os: string
  arch: string
  dataDir: string
  updateConfigured: boolean
  updateLocation: string
  updatePolicyFrom: string
  /** An update.errors.* code when IT's policy is present but unusable. */
  updateError: string
}

export interface UpdateOffer {
  version: string
  released: string
  notes: { ja: string; en: string }
  installer: string
  size: number
  sha256: string
}

export interface UpdateCheck {
  status: 'upToDate' | 'available'
  current: string
  latest: string
  offer?: UpdateOffer
}

export interface AboutMethods {
  AppVersion(): AboutInfo
  CheckForUpdate(): UpdateCheck
  InstallUpdate(version: string): void
}

type Caller = <M extends keyof AboutMethods>(
  method: M,
  ...args: Parameters<AboutMethods[M]>
) => Promise<ReturnType<AboutMethods[M]>>

export function aboutApi(call: Caller) {
  return {
    AppVersion: () => call('AppVersion'),
    CheckForUpdate: () => call('CheckForUpdate'),
    InstallUpdate: (version: string) => call('InstallUpdate', version),
  }
}
