// Builds the form page into internal/relay/formpage (form.js, form.css),
// which the relay embeds: `make forms-page`. Prints the sizes.
import { execFileSync } from 'node:child_process'
import { copyFileSync, readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const out = join(here, '..', '..', 'internal', 'relay', 'formpage')
execFileSync(join(here, '..', 'node_modules', '.bin', 'rolldown'),
  [join(here, 'src', 'main.ts'), '--format', 'iife', '--minify', '--platform', 'browser', '--file', join(out, 'form.js')],
  { stdio: 'inherit' })
copyFileSync(join(here, 'src', 'form.css'), join(out, 'form.css'))
for (const f of ['form.js', 'form.css']) {
  const b = readFileSync(join(out, f))
  console.log(`${f}: ${b.length} bytes, ${gzipSync(b, { level: 9 }).length} gzipped`)
}
