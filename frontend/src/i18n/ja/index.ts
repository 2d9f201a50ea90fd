// The Japanese catalog (the default), one file per feature. The English one
// (../en) has the same files with exactly the same keys, checked at compile
// time; a unit test checks the values. vue-i18n syntax: {name} interpolates;
// avoid raw @ $ | { }.
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

const ja = { ...app, ...inbox, ...settings, ...security, ...customers, ...linking, ...campaigns, ...automations, ...richmenus, ...surveys, ...routes, ...webforms, ...booking, ...drafts, ...errors, ...dashboard, ...branchSeats }

export default ja
export type Catalog = typeof ja
