// vite's emptyOutDir removes everything in dist/, including the committed
// dist/.gitkeep (the Go side embeds frontend/dist and needs the folder to
// exist in a fresh clone). Put it back after every build.
import { mkdirSync, writeFileSync, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist')
mkdirSync(dist, { recursive: true })
const keep = join(dist, '.gitkeep')
if (!existsSync(keep)) writeFileSync(keep, '')
