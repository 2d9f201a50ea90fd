package blockvfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"
)

// TestWALFileModel drives a WAL file with random writes (appends, rewrites
// inside and before the buffer, restarts), reads, syncs, sizes and truncations,
// and checks every read against what was written, and the file under it
// after every sync.
func TestWALFileModel(t *testing.T) {
	for seed := range uint64(200) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(seed, 7))
			under := &countingFile{}
			w := &walFile{File: under, db: &dbFile{coalesce: true}}
			var model []byte
			write := func(off int64, n int) {
				p := make([]byte, n)
				for i := 0; i < n; i += 8 { // 8 random bytes a draw (a draw a byte was most of the test's time)
					v := rnd.Uint64()
					for j := i; j < min(i+8, n); j++ {
						p[j], v = byte(v), v>>8
					}
				}
				if _, err := w.WriteAt(p, off); err != nil {
					t.Fatal(err)
				}
				if end := off + int64(n); end > int64(len(model)) {
					model = append(model, make([]byte, end-int64(len(model)))...)
				}
				copy(model[off:], p)
			}
			for range 400 {
				size := int64(len(model))
				switch op := rnd.IntN(100); {
				case op < 50: // append a frame: a header, then a page
					write(size, 24)
					write(size+24, 4096)
				case op < 60: // rewrite a frame's page somewhere earlier
					if size > 4200 {
						write(rnd.Int64N(size-4096), 4096)
					}
				case op < 65: // odd sizes (SQLite never leaves gaps in a WAL)
					write(size, 1+rnd.IntN(5000))
				case op < 70: // a WAL restart
					if _, err := w.WriteAt(walHeader(), 0); err != nil {
						t.Fatal(err)
					}
					if len(model) < walHeaderSize {
						model = append(model, make([]byte, walHeaderSize-len(model))...)
					}
					copy(model, walHeader())
				case op < 85:
					if size == 0 {
						continue
					}
					off := rnd.Int64N(size)
					n := 1 + rnd.Int64N(min(size-off, 9000))
					got := make([]byte, n)
					if _, err := w.ReadAt(got, off); err != nil {
						t.Fatalf("read %d at %d: %v", n, off, err)
					}
					if !bytes.Equal(got, model[off:off+n]) {
						t.Fatalf("read %d at %d: differs from what was written", n, off)
					}
				case op < 95:
					if err := w.Sync(0); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(under.data, model) {
						t.Fatalf("after sync the file (%d bytes) differs from what was written (%d bytes)", len(under.data), len(model))
					}
				case op < 97:
					if n, err := w.Size(); err != nil || n != size {
						t.Fatalf("size %d (%v), want %d", n, err, size)
					}
				default:
					cut := rnd.Int64N(size + 1)
					if err := w.Truncate(cut); err != nil {
						t.Fatal(err)
					}
					model = model[:cut]
				}
			}
		})
	}
}

// TestWholeBlocks: a run of frames reaches the file as whole blocks, with
// at most a partial block at each end of a flush.
func TestWholeBlocks(t *testing.T) {
	under := &countingFile{}
	w := &walFile{File: under, db: &dbFile{coalesce: true}}
	off := int64(32)
	for range 1000 {
		for _, n := range []int{24, 4096} {
			if _, err := w.WriteAt(make([]byte, n), off); err != nil {
				t.Fatal(err)
			}
			off += int64(n)
		}
	}
	if err := w.Sync(0); err != nil {
		t.Fatal(err)
	}
	blocks := off / blockSize
	if under.partial > 2*(blocks*blockSize/bufferSize+1) || under.blocks < blocks-1 {
		t.Errorf("%d frames: %d whole and %d partial block writes", 1000, under.blocks, under.partial)
	}
}

// TestRollbackDiscards: what a rolled-back transaction left in the buffer
// never reaches the file.
func TestRollbackDiscards(t *testing.T) {
	under := &countingFile{}
	db := &dbFile{coalesce: true}
	w := &walFile{File: under, db: db}
	db.wal = w
	const frame = walFrameHeaderSize + 4096
	write := func(b byte, n int, off int64) {
		t.Helper()
		if _, err := w.WriteAt(bytes.Repeat([]byte{b}, n), off); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.WriteAt(walHeader(), 0); err != nil {
		t.Fatal(err)
	}
	write(1, frame, walHeaderSize) // a committed frame
	if err := w.Sync(0); err != nil {
		t.Fatal(err)
	}
	write(2, 3000, walHeaderSize+frame) // part of a transaction, rolled back
	db.rollback()
	// Another connection commits a frame there meanwhile.
	copy(under.grow(walHeaderSize + 2*frame)[walHeaderSize+frame:], bytes.Repeat([]byte{3}, frame))
	// This connection's next transaction follows it.
	write(4, 100, walHeaderSize+2*frame)
	if err := w.Sync(0); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(under.data, []byte{2}) {
		t.Error("bytes of the rolled-back transaction were written")
	}
	if !bytes.Equal(under.data[walHeaderSize+frame:walHeaderSize+2*frame], bytes.Repeat([]byte{3}, frame)) {
		t.Error("another connection's commit was overwritten")
	}
}

// TestInstallRefuses connections it cannot serve safely.
func TestInstallRefuses(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ vfs, pragmas string }{
		"adiantum VFS":       {"adiantum", "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL"},
		"rollback journal":   {Name, "PRAGMA synchronous=FULL"},
		"synchronous=NORMAL": {Name, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"},
	} {
		c := open(t, filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".db"), tc.vfs, tc.pragmas)
		if err := Install(c); !errors.Is(err, ErrNotWAL) {
			t.Errorf("%s: Install = %v, want ErrNotWAL", name, err)
		}
	}
}

// TestSQLite runs real transactions through the VFS: commits seen by
// another connection at once, rolled-back and savepoint-rolled-back
// transactions that spilled to the WAL, a second writer between them, and
// checkpoints; then checks the database with both this VFS and the plain
// adiantum VFS (the files are the same format).
func TestSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	const pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=10"
	a := open(t, path, Name, pragmas)
	b := open(t, path, Name, pragmas)
	r := open(t, path, Name, "")
	for _, c := range []*sqlite3.Conn{a, b} {
		if err := Install(c); err != nil {
			t.Fatal(err)
		}
	}
	exec(t, a, `CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT, v BLOB)`)
	rows := func(c *sqlite3.Conn, who string) int {
		return count(t, c, `SELECT count(*) FROM t WHERE who = '`+who+`'`)
	}
	// Big enough to spill a 10-page cache into the WAL many times.
	insert := func(c *sqlite3.Conn, who string, n int) {
		exec(t, c, fmt.Sprintf(`INSERT INTO t (who, v) SELECT '%s', randomblob(300) FROM generate_series(1, %d)`, who, n))
	}
	for i := range 20 {
		exec(t, a, `BEGIN`)
		insert(a, "a", 50+i*37)
		exec(t, a, `COMMIT`)
		if got, want := rows(r, "a"), count(t, a, `SELECT count(*) FROM t WHERE who = 'a'`); got != want {
			t.Fatalf("commit %d: another connection sees %d rows, want %d", i, got, want)
		}

		exec(t, a, `BEGIN`)
		insert(a, "rolled back", 400)
		exec(t, a, `ROLLBACK`)

		exec(t, b, `BEGIN`)
		insert(b, "b", 30+i)
		exec(t, b, `COMMIT`)

		exec(t, a, `BEGIN; SAVEPOINT s`)
		insert(a, "rolled back", 300)
		exec(t, a, `ROLLBACK TO s; RELEASE s`)
		insert(a, "a", 10)
		exec(t, a, `COMMIT`)
		if got := integrity(t, r); got != "ok" {
			t.Fatalf("after commit %d another connection finds: %s", i, got)
		}
		if i%7 == 6 {
			exec(t, b, `PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
	if n := rows(r, "rolled back"); n != 0 {
		t.Errorf("%d rows of rolled-back transactions", n)
	}
	wantA, wantB := rows(a, "a"), rows(a, "b")
	for _, c := range []*sqlite3.Conn{a, b, r} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{Name, "adiantum"} {
		c := open(t, path, name, "")
		if got := integrity(t, c); got != "ok" {
			t.Errorf("%s: integrity_check: %s", name, got)
		}
		if rows(c, "a") != wantA || rows(c, "b") != wantB {
			t.Errorf("%s: rows a=%d b=%d, want %d %d", name, rows(c, "a"), rows(c, "b"), wantA, wantB)
		}
		c.Close()
	}
}

// walHeader is a WAL header for 4 KiB pages (the checksums do not matter here).
func walHeader() []byte {
	h := make([]byte, walHeaderSize)
	binary.BigEndian.PutUint32(h[0:], 0x377f0682)
	binary.BigEndian.PutUint32(h[4:], 3007000)
	binary.BigEndian.PutUint32(h[8:], 4096)
	return h
}

const testKey = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func open(t *testing.T, path, vfsName, pragmas string) *sqlite3.Conn {
	t.Helper()
	c, err := sqlite3.Open("file:" + path + "?vfs=" + vfsName + "&hexkey=" + testKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if pragmas != "" {
		exec(t, c, pragmas)
	}
	return c
}

func exec(t *testing.T, c *sqlite3.Conn, sql string) {
	t.Helper()
	if err := c.Exec(sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func count(t *testing.T, c *sqlite3.Conn, sql string) int {
	t.Helper()
	stmt, _, err := c.Prepare(sql)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	if !stmt.Step() {
		t.Fatalf("%s: %v", sql, stmt.Err())
	}
	return stmt.ColumnInt(0)
}

func integrity(t *testing.T, c *sqlite3.Conn) string {
	t.Helper()
	stmt, _, err := c.Prepare(`PRAGMA integrity_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	var out []string
	for stmt.Step() {
		out = append(out, stmt.ColumnText(0))
	}
	if err := stmt.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "; ")
}

// countingFile is an in-memory file that counts whole- and partial-block
// writes.
type countingFile struct {
	vfsutil.SliceFile
	data            []byte
	blocks, partial int64
}

func (f *countingFile) grow(n int64) []byte {
	if int64(len(f.data)) < n {
		f.data = append(f.data, make([]byte, n-int64(len(f.data)))...)
	}
	return f.data
}

func (f *countingFile) WriteAt(p []byte, off int64) (int, error) {
	for b := off &^ (blockSize - 1); b < off+int64(len(p)); b += blockSize {
		if b < off || b+blockSize > off+int64(len(p)) {
			f.partial++
		} else {
			f.blocks++
		}
	}
	copy(f.grow(off + int64(len(p)))[off:], p)
	return len(p), nil
}

func (f *countingFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(f.data)) {
		return 0, errors.New("read past the end")
	}
	n := copy(p, f.data[off:])
	if n < len(p) {
		return n, errors.New("short read")
	}
	return n, nil
}

func (f *countingFile) Size() (int64, error)    { return int64(len(f.data)), nil }
func (f *countingFile) Sync(vfs.SyncFlag) error { return nil }
func (f *countingFile) Truncate(size int64) error {
	if size < int64(len(f.data)) {
		f.data = f.data[:size]
	}
	return nil
}

// TestReadersDuringCommits: readers on other connections, reading while the
// writer commits transactions of every size (some spilling its cache into
// the WAL, some rolled back), always see a consistent database: the
// transfers between accounts keep the total, and no read fails.
func TestReadersDuringCommits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	w := open(t, path, Name, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=8")
	if err := Install(w); err != nil {
		t.Fatal(err)
	}
	exec(t, w, `CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER, pad BLOB);
		INSERT INTO acct (bal, pad) SELECT 100, randomblob(200) FROM generate_series(1, 2000)`)
	const total = 200000
	done := make(chan struct{})
	errc := make(chan error, 3)
	for range 3 {
		r := open(t, path, Name, "")
		go func() { errc <- readUntil(r, done, total) }()
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		n := 1 + rnd.IntN(400)
		from, to := 1+rnd.IntN(2000), 1+rnd.IntN(2000)
		exec(t, w, `BEGIN`)
		exec(t, w, fmt.Sprintf(`UPDATE acct SET pad = randomblob(200) WHERE id %% %d = %d`, n, i%n))
		exec(t, w, fmt.Sprintf(`UPDATE acct SET bal = bal - 1 WHERE id = %d; UPDATE acct SET bal = bal + 1 WHERE id = %d`, from, to))
		if i%5 == 4 {
			exec(t, w, `ROLLBACK`)
		} else {
			exec(t, w, `COMMIT`)
		}
		if i%50 == 49 {
			exec(t, w, `PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
	close(done)
	for range 3 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

// readUntil checks the accounts' total until done is closed.
func readUntil(r *sqlite3.Conn, done <-chan struct{}, total int) error {
	for {
		select {
		case <-done:
			return nil
		default:
		}
		stmt, _, err := r.Prepare(`SELECT sum(bal), count(*) FROM acct`)
		if err != nil {
			return err
		}
		ok := stmt.Step()
		sum, n := stmt.ColumnInt(0), stmt.ColumnInt(1)
		err = stmt.Err()
		stmt.Close()
		if err != nil || !ok || sum != total || n != 2000 {
			return fmt.Errorf("reader saw sum %d of %d rows (%v)", sum, n, err)
		}
	}
}
