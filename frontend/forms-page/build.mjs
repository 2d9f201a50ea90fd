// Builds the form page (form.js, form.css) and the booking page
// (booking.js, booking.css) into internal/relay/formpage, which the relay
// embeds: `make forms-page`. Prints the sizes.
import { execFileSync } from 'node:child_process'
import { copyFileSync, readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const out = join(here, '..', '..', 'internal', 'relay', 'formpage')
for (const [entry, js, css] of [['main.ts', 'form.js', 'form.css'], ['booking.ts', 'booking.js', 'booking.css']]) {
  execFileSync(join(here, '..', 'node_modules', '.bin', 'rolldown'),
    [join(here, 'src', entry), '--format', 'iife', '--minify', '--platform', 'browser', '--file', join(out, js)],
    { stdio: 'inherit' })
  copyFileSync(join(here, 'src', css), join(out, css))
}
for (const f of ['form.js', 'form.css', 'booking.js', 'booking.css']) {
  const b = readFileSync(join(out, f))
  console.log(`${f}: ${b.length} bytes, ${gzipSync(b, { level: 9 }).length} gzipped`)
}
