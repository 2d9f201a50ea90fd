// Package blockvfs is the store's SQLite VFS: the "adiantum" encrypting VFS
// of github.com/ncruces/go-sqlite3, with the write-ahead log written in whole
// cipher blocks.
//
// Adiantum encrypts files in 4 KiB blocks. Database pages are 4 KiB and
// aligned, but a WAL frame is a 24-byte header plus a page, so SQLite writes
// the WAL in pieces that straddle blocks: every frame costs the adiantum VFS
// three partial-block writes, each a read, a decryption, an encryption and a
// write under a lock. A million-row import writes some 80,000 frames.
//
// A connection that calls [Install] gets its WAL writes collected in memory
// and written as whole blocks (one encryption and one write per block);
// only the first and last block of a run are partial. The files on disk are
// byte for byte what the adiantum VFS writes, so either VFS opens them.
//
// The buffer never holds committed data once SQLite has been told a commit is
// durable, and never outlives the transaction that wrote it:
//   - a commit syncs the WAL (Install requires synchronous=FULL or EXTRA), and
//     Sync writes the buffer first;
//   - a rollback discards it (a rollback hook). Written later, frames of a
//     rolled-back transaction could overwrite frames another connection has
//     committed since;
//   - closing the file discards it: with every commit synced, what is left is
//     a transaction the close rolls back.
//
// Anything else that reads, sizes or truncates the WAL writes the buffer
// first, so SQLite always sees the file it wrote. Connections without
// Install (the read-only pool, tools) use the adiantum VFS unchanged.
package blockvfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"
	"github.com/ncruces/go-sqlite3/vfs/adiantum"
)

// Name is the VFS name to use in a database URI (vfs=tsunagu). Keys are
// given as for the adiantum VFS (PRAGMA hexkey or URI parameters).
const Name = "tsunagu"

// blockSize is the adiantum VFS's cipher block size.
const blockSize = 4096

// bufferSize bounds the memory a connection's WAL buffer holds: when it is
// full, its whole blocks are written.
const bufferSize = 256 << 10

// ErrNotWAL: Install was called on a connection whose database is not on
// this VFS, or not in WAL mode with synchronous=FULL.
var ErrNotWAL = errors.New("blockvfs: connection is not a WAL database on this VFS with synchronous=FULL")

func init() {
	// Registration is process-wide in SQLite, as for the wrapped VFS.
	vfs.Register(Name, blockVFS{VFS: adiantum.Wrap(osVFS{vfs.Find("")}, nil)})
}

// Install turns on whole-block WAL writes for c, a connection to a database
// opened with vfs=tsunagu, in WAL mode, with synchronous=FULL or EXTRA (the
// caller must not lower it afterwards). It sets c's rollback hook.
func Install(c *sqlite3.Conn) error {
	db, ok := vfsutil.UnwrapFile[*dbFile](c.Filename("main").DatabaseFile())
	if !ok {
		return ErrNotWAL
	}
	stmt, _, err := c.Prepare(`SELECT (SELECT journal_mode FROM pragma_journal_mode), (SELECT synchronous FROM pragma_synchronous)`)
	if err != nil {
		return fmt.Errorf("blockvfs: %w", err)
	}
	defer stmt.Close()
	if !stmt.Step() {
		return fmt.Errorf("blockvfs: %w", errors.Join(stmt.Err(), ErrNotWAL))
	}
	if stmt.ColumnText(0) != "wal" || stmt.ColumnInt(1) < 2 {
		return ErrNotWAL
	}
	c.RollbackHook(db.rollback)
	db.mu.Lock()
	db.coalesce = true
	db.mu.Unlock()
	return nil
}

type blockVFS struct{ vfs.VFS }

func (v blockVFS) Open(name string, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	return v.OpenFilename(nil, flags) // notest: SQLite calls OpenFilename
}

func (v blockVFS) OpenFilename(name *vfs.Filename, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	f, flags, err := vfsutil.WrapOpenFilename(v.VFS, name, flags)
	if err != nil {
		return f, flags, err
	}
	switch {
	case flags&vfs.OPEN_MAIN_DB != 0:
		return &dbFile{File: f}, flags, nil
	case flags&vfs.OPEN_WAL != 0 && flags&vfs.OPEN_READONLY == 0:
		db, ok := vfsutil.UnwrapFile[*dbFile](name.DatabaseFile())
		if !ok {
			return f, flags, nil
		}
		w := &walFile{File: f, db: db}
		w.os, _ = vfsutil.UnwrapFile[*osFile](f)
		db.mu.Lock()
		db.wal = w
		db.mu.Unlock()
		return w, flags, nil
	}
	return f, flags, nil
}

// dbFile is a main database file: it links the connection's rollback hook
// to its WAL. Everything else is the adiantum file's.
type dbFile struct {
	vfs.File

	mu       sync.Mutex
	coalesce bool     // Install was called
	wal      *walFile // the open WAL, if any
}

// rollback discards what the WAL buffer holds: frames of the transaction
// being rolled back.
func (f *dbFile) rollback() {
	f.mu.Lock()
	w := f.wal
	f.mu.Unlock()
	if w != nil {
		w.discard()
	}
}

func (f *dbFile) coalescing() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.coalesce
}

func (f *dbFile) detach(w *walFile) {
	f.mu.Lock()
	if f.wal == w {
		f.wal = nil
	}
	f.mu.Unlock()
}

// The optional methods of the adiantum file, forwarded.

func (f *dbFile) Unwrap() vfs.File { return f.File }

func (f *dbFile) Pragma(name, value string) (string, error) {
	return vfsutil.WrapPragma(f.File, name, value)
}
func (f *dbFile) SharedMemory() vfs.SharedMemory { return vfsutil.WrapSharedMemory(f.File) }
func (f *dbFile) LockState() vfs.LockLevel       { return vfsutil.WrapLockState(f.File) }
func (f *dbFile) PersistWAL() bool               { return vfsutil.WrapPersistWAL(f.File) }
func (f *dbFile) SetPersistWAL(keep bool)        { vfsutil.WrapSetPersistWAL(f.File, keep) }
func (f *dbFile) HasMoved() (bool, error)        { return vfsutil.WrapHasMoved(f.File) }
func (f *dbFile) Overwrite() error               { return vfsutil.WrapOverwrite(f.File) }
func (f *dbFile) SyncSuper(super string) error   { return vfsutil.WrapSyncSuper(f.File, super) }
func (f *dbFile) CommitPhaseTwo() error          { return vfsutil.WrapCommitPhaseTwo(f.File) }
func (f *dbFile) BeginAtomicWrite() error        { return vfsutil.WrapBeginAtomicWrite(f.File) }
func (f *dbFile) CommitAtomicWrite() error       { return vfsutil.WrapCommitAtomicWrite(f.File) }
func (f *dbFile) RollbackAtomicWrite() error     { return vfsutil.WrapRollbackAtomicWrite(f.File) }
func (f *dbFile) CheckpointStart()               { vfsutil.WrapCheckpointStart(f.File) }
func (f *dbFile) CheckpointDone()                { vfsutil.WrapCheckpointDone(f.File) }
func (f *dbFile) BusyHandler(h func() bool)      { vfsutil.WrapBusyHandler(f.File, h) }
func (f *dbFile) ChunkSize(size int)             { vfsutil.WrapChunkSize(f.File, size) }
func (f *dbFile) SizeHint(size int64) error      { return vfsutil.WrapSizeHint(f.File, size) }

// walFile is a WAL opened for writing. buf holds the bytes SQLite wrote at
// [start, start+len(buf)) that are not in the file yet.
type walFile struct {
	vfs.File
	db *dbFile
	os *osFile // under the adiantum file; nil in tests

	mu    sync.Mutex // SQLite uses a file from one thread; the hook may not
	start int64
	buf   []byte
	// lastEnd is where the last write ended.
	lastEnd int64
	// A commit padded to a block boundary syncs at the boundary and
	// writes the rest of its last frame after the sync. That frame is
	// committed (other connections read it) once SQLite returns, so
	// writes continuing from the sync up to the end of the frame it was
	// in (through) are not buffered.
	through int64
	frame   int64 // WAL frame size (24 + page size); 0 until known
}

// WAL layout (https://sqlite.org/fileformat.html#the_write_ahead_log).
const (
	walHeaderSize      = 32
	walFrameHeaderSize = 24
)

func (f *walFile) end() int64 { return f.start + int64(len(f.buf)) }

// WriteAt appends to the buffer when p continues it, overwrites it in place
// where p falls inside it and writes through where p falls before it (SQLite
// rewrites frames of the current transaction); a write past its end writes
// the buffer out first.
func (f *walFile) WriteAt(p []byte, off int64) (int, error) {
	if !f.db.coalescing() {
		return f.File.WriteAt(p, off)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if off == 0 && len(p) >= walHeaderSize {
		f.learnFrame(p)
	}
	if f.through > 0 {
		through := off == f.lastEnd && off < f.through
		if off+int64(len(p)) >= f.through || !through {
			f.through = 0
		}
		if through && len(f.buf) == 0 {
			f.lastEnd = off + int64(len(p))
			return f.File.WriteAt(p, off)
		}
	}
	f.lastEnd = off + int64(len(p))
	total := len(p)
	if len(f.buf) > 0 && off < f.start {
		// SQLite rewrites a frame of this transaction that is in the
		// file already: that part goes to the file.
		n := min(int64(len(p)), f.start-off)
		if _, err := f.File.WriteAt(p[:n], off); err != nil {
			return 0, err
		}
		if p, off = p[n:], off+n; len(p) == 0 {
			return total, nil
		}
	}
	if len(f.buf) > 0 {
		if off > f.end() { // a gap: not a continuation
			if err := f.flushLocked(); err != nil {
				return 0, err
			}
		} else { // overwrite in place, append the rest
			n := copy(f.buf[off-f.start:], p)
			p = p[n:]
		}
	}
	if len(f.buf) == 0 {
		if f.buf == nil {
			f.buf = make([]byte, 0, bufferSize+blockSize)
		}
		f.start = off
	}
	f.buf = append(f.buf, p...)
	if len(f.buf) >= bufferSize {
		return total, f.writeBlocksLocked()
	}
	return total, nil
}

// writeBlocksLocked writes the buffer up to its last block boundary; the
// rest (less than a block) stays.
func (f *walFile) writeBlocksLocked() error {
	cut := (f.end() &^ (blockSize - 1)) - f.start
	if cut <= 0 {
		return nil
	}
	if err := f.writeOut(f.buf[:cut], f.start); err != nil {
		f.buf = f.buf[:0]
		return err
	}
	f.start += cut
	f.buf = f.buf[:copy(f.buf, f.buf[cut:])]
	return nil
}

// flushLocked writes the whole buffer.
func (f *walFile) flushLocked() error {
	if len(f.buf) == 0 {
		return nil
	}
	err := f.writeOut(f.buf, f.start)
	f.start += int64(len(f.buf))
	f.buf = f.buf[:0]
	return err
}

// writeOut writes p at off through the adiantum file. A partial block at
// either end is written on its own: the adiantum VFS reads, updates and
// writes it under its block lock, since a reader may be reading the
// committed frame it shares the block with. The whole blocks in between
// hold only bytes of this transaction, which no reader reads; their
// encrypted blocks go to the file in one call.
func (f *walFile) writeOut(p []byte, off int64) error {
	if head := (blockSize - off%blockSize) % blockSize; head > 0 {
		head = min(head, int64(len(p)))
		if _, err := f.File.WriteAt(p[:head], off); err != nil {
			return err
		}
		p, off = p[head:], off+head
	}
	whole := int64(len(p)) &^ (blockSize - 1)
	if whole > 0 {
		if f.os != nil {
			f.os.begin()
		}
		_, err := f.File.WriteAt(p[:whole], off)
		if f.os != nil {
			err = errors.Join(err, f.os.end())
		}
		if err != nil {
			return err
		}
		p, off = p[whole:], off+whole
	}
	if len(p) > 0 {
		_, err := f.File.WriteAt(p, off)
		return err
	}
	return nil
}

func (f *walFile) flush() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.flushLocked()
}

func (f *walFile) discard() {
	f.mu.Lock()
	f.buf = f.buf[:0]
	f.mu.Unlock()
}

// ReadAt reads what is in the buffer from it and the rest from the file;
// a read past the buffer's end writes the buffer out first.
func (f *walFile) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	if len(f.buf) > 0 && off+int64(len(p)) > f.start {
		if off+int64(len(p)) > f.end() {
			if err := f.flushLocked(); err != nil {
				f.mu.Unlock()
				return 0, err
			}
		} else {
			n := 0
			if off < f.start {
				n = int(f.start - off) // the part before the buffer is in the file
			}
			copy(p[n:], f.buf[max(off-f.start, 0):])
			f.mu.Unlock()
			if n > 0 {
				if m, err := f.File.ReadAt(p[:n], off); m < n {
					return m, err
				}
			}
			return len(p), nil
		}
	}
	f.mu.Unlock()
	return f.File.ReadAt(p, off)
}

// Sync writes the buffer, then syncs: a commit syncs the WAL before SQLite
// publishes it to other connections (synchronous=FULL).
func (f *walFile) Sync(flags vfs.SyncFlag) error {
	f.mu.Lock()
	err := f.flushLocked()
	if err == nil && f.db.coalescing() {
		err = f.afterSyncLocked()
	}
	f.mu.Unlock()
	if err != nil {
		return err
	}
	return f.File.Sync(flags)
}

// afterSyncLocked sets through to the end of the frame the last write
// ended in (if it ended inside one).
func (f *walFile) afterSyncLocked() error {
	f.through = 0
	if f.frame == 0 && f.lastEnd > walHeaderSize {
		var hdr [walHeaderSize]byte
		if _, err := f.File.ReadAt(hdr[:], 0); err != nil {
			return err
		}
		f.learnFrame(hdr[:])
	}
	switch {
	case f.lastEnd <= walHeaderSize:
	case f.frame == 0: // not a WAL header we know: write through until the next sync
		f.through = math.MaxInt64
	default:
		if in := (f.lastEnd - walHeaderSize) % f.frame; in != 0 {
			f.through = f.lastEnd - in + f.frame
		}
	}
	return nil
}

// learnFrame reads the page size from a WAL header.
func (f *walFile) learnFrame(hdr []byte) {
	magic := binary.BigEndian.Uint32(hdr[0:4])
	size := binary.BigEndian.Uint32(hdr[8:12])
	if magic&^1 == 0x377f0682 && size >= 512 && size <= 65536 && size&(size-1) == 0 {
		f.frame = walFrameHeaderSize + int64(size)
	}
}

func (f *walFile) Size() (int64, error) {
	if err := f.flush(); err != nil {
		return 0, err
	}
	return f.File.Size()
}

func (f *walFile) Truncate(size int64) error {
	if err := f.flush(); err != nil {
		return err
	}
	return f.File.Truncate(size)
}

func (f *walFile) Close() error {
	f.discard()
	f.db.detach(f)
	return f.File.Close()
}

func (f *walFile) Unwrap() vfs.File { return f.File }

func (f *walFile) SizeHint(size int64) error { return vfsutil.WrapSizeHint(f.File, size) }
func (f *walFile) ChunkSize(size int)        { vfsutil.WrapChunkSize(f.File, size) }
