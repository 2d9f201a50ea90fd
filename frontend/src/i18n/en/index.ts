// The English catalog, one file per feature like ../ja.
import type { Catalog } from '../ja'
import app from './app'
import inbox from './inbox'
import settings from './settings'
import security from './security'
import customers from './customers'
import linking from './linking'
import campaigns from './campaigns'
import automations from './automations'
import richmenus from './richmenus'
import surveys from './surveys'
import drafts from './drafts'
import routes from './routes'
import webforms from './webforms'
import booking from './booking'
import errors from './errors'
import dashboard from './dashboard'
import branchSeats from './branchseats'

const en: Catalog = { ...app, ...inbox, ...settings, ...security, ...customers, ...linking, ...campaigns, ...automations, ...richmenus, ...surveys, ...routes, ...webforms, ...booking, ...drafts, ...errors, ...dashboard, ...branchSeats }

export default en
