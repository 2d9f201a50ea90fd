package importer

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/driver"
	"github.com/ncruces/go-sqlite3/ext/fts5"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"tsunagu/internal/store"
)

// Benchmark_import_1m imports a generated 1,000,000-row, 20-column
// Shift_JIS file into the encrypted DB, and compares it in the same run with
// two floors: the same rows, already decoded and normalized, written by the
// same statements (a) into an encrypted DB with the same driver and VFS and
// (b) into a plain unencrypted SQLite file. Each of the three runs in its own
// child process, so that generating the file or the floor's rows does not
// count towards the import's peak RSS (VmHWM).
//
//	make bench BENCH=import_1m
func Benchmark_import_1m(b *testing.B) {
	rows := 1_000_000
	if s := os.Getenv("TSUNAGU_BENCH_N"); s != "" {
		rows, _ = strconv.Atoi(s)
	}
	dir := b.TempDir()
	file := filepath.Join(dir, "core-banking.csv")
	genStart := time.Now()
	if err := writeBenchFile(file, rows); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(file)
	b.Logf("generated %d rows (%d MB) in %s", rows, st.Size()>>20, time.Since(genStart).Round(time.Millisecond))

	b.ResetTimer()
	imp := benchChild(b, "import", dir, file, rows)
	floor := benchChild(b, "floor", dir, file, rows)
	plain := benchChild(b, "plain", dir, file, rows)
	b.StopTimer()
	b.Logf("import %.2fs, encrypted floor %.2fs, plain floor %.2fs", imp.Seconds, floor.Seconds, plain.Seconds)
	b.ReportMetric(float64(rows)/imp.Seconds, "rows/s")
	fmt.Printf("BENCH import_1m rows_per_s=%.0f rss_mb=%.0f ratio=%.2f ratio_plain=%.2f\n",
		float64(rows)/imp.Seconds, imp.RSSMB, imp.Seconds/floor.Seconds, imp.Seconds/plain.Seconds)
}

// benchResult is what a bench child reports on its last line of output.
type benchResult struct {
	Seconds float64 `json:"seconds"`
	RSSMB   float64 `json:"rssMb"`
	Rows    int     `json:"rows"`
}

const benchEnv = "TSUNAGU_BENCH_CHILD"

func benchChild(b *testing.B, mode, dir, file string, rows int) benchResult {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), benchEnv+"="+mode, "TSUNAGU_BENCH_DIR="+dir, "TSUNAGU_BENCH_FILE="+file, "TSUNAGU_BENCH_ROWS="+strconv.Itoa(rows))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("bench child %s: %v\n%s", mode, err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var res benchResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		b.Fatalf("bench child %s said %q", mode, out)
	}
	if res.Rows != rows {
		b.Fatalf("bench child %s wrote %d rows, want %d", mode, res.Rows, rows)
	}
	return res
}

// benchChildMain runs in the child process (see TestMain).
func benchChildMain(mode string) int {
	ctx := context.Background()
	dir, file := os.Getenv("TSUNAGU_BENCH_DIR"), os.Getenv("TSUNAGU_BENCH_FILE")
	rows, _ := strconv.Atoi(os.Getenv("TSUNAGU_BENCH_ROWS"))
	key := make([]byte, store.KeySize)
	rand.Read(key)
	// TSUNAGU_BENCH_CPUPROFILE=file profiles the child (go test's own
	// -cpuprofile does not reach it).
	if pf := os.Getenv("TSUNAGU_BENCH_CPUPROFILE"); pf != "" {
		f, err := os.Create(pf)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	var res benchResult
	var err error
	switch mode {
	case "import":
		res, err = benchImport(ctx, filepath.Join(dir, "import.db"), key, file)
	case "gen": // for profiling by hand: writes the file the bench imports
		err = writeBenchFile(file, rows)
		res.Rows = rows
	case "floor", "plain":
		res, err = benchFloor(ctx, mode, filepath.Join(dir, mode+".db"), key, rows)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	res.RSSMB = peakRSSMB()
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	return 0
}

func benchImport(ctx context.Context, path string, key []byte, file string) (benchResult, error) {
	db, err := store.Create(ctx, path, key)
	if err != nil {
		return benchResult{}, err
	}
	defer db.Close()
	start := time.Now()
	res, err := Import(ctx, db, file, Options{Staff: "bench"})
	if err != nil {
		return benchResult{}, err
	}
	secs := time.Since(start).Seconds()
	if res.Rejected != 0 {
		return benchResult{}, fmt.Errorf("%d rows rejected: %+v", res.Rejected, res.Issues[:min(3, len(res.Issues))])
	}
	return benchResult{Seconds: secs, Rows: res.New}, nil
}

// benchFloor writes the same rows with the importer's own statements, but
// from values that are already decoded and normalized: what is left is the
// cost of SQLite, the driver and (for "floor") the encryption.
func benchFloor(ctx context.Context, mode, path string, key []byte, n int) (benchResult, error) {
	headers := benchHeader
	cols, err := AutoMap(headers).columns(headers)
	if err != nil {
		return benchResult{}, err
	}
	norm := newNormalizer(cols, headers)
	decoded := make([]row, n)
	for i := range decoded {
		rec := benchRecord(i)
		r, issue := norm.row(rec)
		if issue != nil {
			return benchResult{}, fmt.Errorf("row %d: %+v", i, issue)
		}
		decoded[i] = *r
	}

	var sqldb *sql.DB
	switch mode {
	case "floor":
		db, err := store.Create(ctx, path, key)
		if err != nil {
			return benchResult{}, err
		}
		defer db.Close()
		sqldb = db.Writer()
	case "plain":
		db, err := openPlain(ctx, path)
		if err != nil {
			return benchResult{}, err
		}
		defer db.Close()
		sqldb = db
	}
	res := Result{}
	r := &run{opts: Options{Kind: KindCustomers, Clock: time.Now, Missing: MissingKeep, Staff: "bench"}, res: &res, in: &input{encoding: EncodingSJIS}, norm: norm}
	start := time.Now()
	err = store.WriteRaw(ctx, sqldb, func(c *sqlite3.Conn) error {
		defer r.close()
		if err := r.prepare(c); err != nil {
			return err
		}
		for i := range decoded {
			if err := r.write(&decoded[i]); err != nil {
				return err
			}
		}
		return r.flush(ctx)
	}, nil)
	if err != nil {
		return benchResult{}, err
	}
	return benchResult{Seconds: time.Since(start).Seconds(), Rows: res.New}, nil
}

// openPlain opens an unencrypted SQLite file with the same driver, settings
// and schema as the store.
func openPlain(ctx context.Context, path string) (*sql.DB, error) {
	db, err := driver.Open("file:"+path, func(c *sqlite3.Conn) error {
		if err := fts5.Register(c); err != nil { // as the store: a migration has FTS5 tables
			return err
		}
		for _, p := range []string{`PRAGMA journal_mode=WAL`, `PRAGMA synchronous=FULL`, `PRAGMA foreign_keys=ON`, `PRAGMA temp_store=MEMORY`, `PRAGMA secure_delete=ON`} {
			if err := c.Exec(p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	files, _ := filepath.Glob("../store/migrations/*.sql")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if _, err := db.ExecContext(ctx, string(b)); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	return db, nil
}

func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	return -1
}

// benchHeader has the 14 columns the importer maps and 6 it ignores, as in
// a real core-banking export.
var benchHeader = []string{"顧客番号", "氏名", "フリガナ", "生年月日", "性別", "電話番号", "携帯電話", "メールアドレス", "郵便番号", "住所",
	"店番", "担当者", "メール配信同意", "DM可否", "口座種別", "取引開始日", "預金残高区分", "職業", "備考", "更新日"}

var (
	benchFamily = []string{"山田", "佐藤", "鈴木", "髙橋", "田中", "渡辺", "伊藤", "中村", "小林", "加藤"}
	benchKana   = []string{"ﾔﾏﾀﾞ", "ｻﾄｳ", "ｽｽﾞｷ", "ﾀｶﾊｼ", "ﾀﾅｶ", "ﾜﾀﾅﾍﾞ", "ｲﾄｳ", "ﾅｶﾑﾗ", "ｺﾊﾞﾔｼ", "ｶﾄｳ"}
	benchGiven  = []string{"太郎", "花子", "一郎", "美咲", "健太", "さくら", "翔", "陽菜"}
	benchGivenK = []string{"ﾀﾛｳ", "ﾊﾅｺ", "ｲﾁﾛｳ", "ﾐｻｷ", "ｹﾝﾀ", "ｻｸﾗ", "ｼｮｳ", "ﾋﾅ"}
)

// benchRecord is row i of the generated file: half-width kana, era and
// Western dates, hyphenated and bare phones, mixed-case emails, addresses
// with full-width digits and ①, some empty optional columns.
func benchRecord(i int) []string {
	f, g := i%len(benchFamily), (i/len(benchFamily))%len(benchGiven)
	var birth string
	switch i % 4 {
	case 0:
		birth = fmt.Sprintf("S%d.%d.%d", 30+i%34, 1+i%12, 1+i%28)
	case 1:
		birth = fmt.Sprintf("平成%d年%d月%d日", 1+i%30, 1+i%12, 1+i%28)
	case 2:
		birth = fmt.Sprintf("%d/%02d/%02d", 1940+i%60, 1+i%12, 1+i%28)
	default:
		birth = fmt.Sprintf("%d%02d%02d", 1950+i%50, 1+i%12, 1+i%28)
	}
	phone, mobile, email := "", "", ""
	if i%10 < 7 {
		phone = fmt.Sprintf("0%d-%04d-%04d", 3+i%6, i%10000, (i/7)%10000)
	}
	if i%10 < 6 {
		mobile = fmt.Sprintf("090%08d", i)
	}
	if i%10 < 4 {
		email = fmt.Sprintf("User%d@Example.co.jp", i)
	}
	return []string{
		fmt.Sprintf("%010d", i), benchFamily[f] + "　" + benchGiven[g], benchKana[f] + " " + benchGivenK[g], birth,
		[]string{"男", "女", "", "1"}[i%4], phone, mobile, email, fmt.Sprintf("%03d-%04d", 100+i%800, i%10000),
		fmt.Sprintf("東京都千代田区丸の内%d丁目%d番①号", 1+i%9, 1+i%30), fmt.Sprintf("%03d", i%40), "担当" + strconv.Itoa(i%25),
		[]string{"1", "0", ""}[i%3], []string{"可", "否"}[i%2],
		"普通預金", "H10.4.1", "B", "会社員", "", "2026/04/01",
	}
}

func writeBenchFile(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	enc := transform.NewWriter(bw, japanese.ShiftJIS.NewEncoder())
	w := csv.NewWriter(enc)
	w.UseCRLF = true
	w.Write(benchHeader)
	for i := range n {
		if err := w.Write(benchRecord(i)); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}
