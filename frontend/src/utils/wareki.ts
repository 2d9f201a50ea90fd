// 和暦: the eras, reading a date written in 西暦 or 和暦, and writing one
// in 和暦. No imports: the web form page (frontend/forms-page) bundles it
// too, so the desktop and the page read 和暦 from this one table.

/**
 * Japanese eras by their first day. A clerk reads birth dates in 和暦, as
 * on the customer's own documents; the table is fixed history, so it is
 * code rather than the browser's calendar data (whose era names and 元年
 * vary between engines).
 */
export const ERAS: readonly { name: string; nameEn: string; start: string }[] = [
  { name: '令和', nameEn: 'Reiwa', start: '2019-05-01' },
  { name: '平成', nameEn: 'Heisei', start: '1989-01-08' },
  { name: '昭和', nameEn: 'Showa', start: '1926-12-25' },
  { name: '大正', nameEn: 'Taisho', start: '1912-07-30' },
  { name: '明治', nameEn: 'Meiji', start: '1868-01-25' },
]

const ISO = /^(\d{4})-(\d{2})-(\d{2})$/

// Era letters as written on forms (S60.4.1, H1/1/8, R1-5-1).
const ERA_LETTERS: Record<string, string> = { M: '明治', T: '大正', S: '昭和', H: '平成', R: '令和' }

/**
 * A date as people write it, 西暦 or 和暦, as YYYY-MM-DD, or null when it
 * is not a date: 1985-04-01, 1985/4/1, 1985年4月1日, 昭和60年4月1日,
 * 令和元年5月1日, S60.4.1, full-width digits. An era date must fall within
 * its era (平成32年 and 昭和64年2月 are refused, not guessed). Shared by
 * the desktop and the web form page (frontend/forms-page), so both read
 * 和暦 from this one table.
 */
export function parseDate(input: string): string | null {
  const s = input
    .normalize('NFKC')
    .replace(/\s+/g, '')
    .replace(/^([MTSHR])(?=\d|元)/i, (l) => ERA_LETTERS[l.toUpperCase()] ?? l)
  const m = /^(明治|大正|昭和|平成|令和)?(\d{1,4}|元)(?:年|[./-])(\d{1,2})(?:月|[./-])(\d{1,2})日?$/.exec(s)
  if (!m) return null
  const [, eraName, yText, moText, dText] = m
  const n = yText === '元' ? 1 : Number(yText)
  let year = n
  const era = eraName ? ERAS.find((e) => e.name === eraName) : undefined
  if (eraName) {
    if (!era || n < 1 || n > 99) return null
    year = Number(era.start.slice(0, 4)) + n - 1
  } else if (yText === '元' || (yText ?? '').length !== 4) {
    return null // a bare 2-digit year is ambiguous: 60 is 1960 or 昭和60
  }
  const mo = Number(moText)
  const d = Number(dText)
  const dt = new Date(Date.UTC(year, mo - 1, d))
  if (dt.getUTCFullYear() !== year || dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d) return null
  const p = (x: number) => String(x).padStart(2, '0')
  const iso = `${String(year).padStart(4, '0')}-${p(mo)}-${p(d)}`
  if (era) {
    // Within its era: on or after its first day, before the next era's.
    const next = ERAS[ERAS.indexOf(era) - 1]
    if (iso < era.start || (next && iso >= next.start)) return null
  }
  return iso
}

/** 和暦 of a YYYY-MM-DD date (昭和60年4月1日), or '' before 明治. */
export function wareki(iso: string): string {
  const m = ISO.exec(iso)
  const era = m ? ERAS.find((e) => iso >= e.start) : undefined
  if (!m || !era) return ''
  const n = Number(m[1]) - Number(era.start.slice(0, 4)) + 1
  return `${era.name}${n === 1 ? '元' : n}年${Number(m[2])}月${Number(m[3])}日`
}
