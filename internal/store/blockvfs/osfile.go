package blockvfs

import (
	"errors"
	"os"

	"github.com/ncruces/go-sqlite3/util/vfsutil"
	"github.com/ncruces/go-sqlite3/vfs"
)

// osVFS is the OS VFS under the adiantum layer. Its files can collect the
// encrypted blocks of one write of whole blocks (see walFile.writeOut) into
// a single system call: the adiantum VFS writes block by block, and a
// million-row import would otherwise make some 80,000 pwrite calls for its
// WAL alone.
type osVFS struct{ vfs.VFS }

func (v osVFS) Open(name string, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	return v.OpenFilename(nil, flags) // notest: SQLite calls OpenFilename
}

func (v osVFS) OpenFilename(name *vfs.Filename, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	if name != nil && flags&vfs.OPEN_CREATE != 0 && flags&vfs.OPEN_EXCLUSIVE == 0 {
		CreatePrivate(name.String())
	}
	f, flags, err := vfsutil.WrapOpenFilename(v.VFS, name, flags)
	if err != nil || flags&vfs.OPEN_WAL == 0 {
		return f, flags, err
	}
	return &osFile{File: f}, flags, nil
}

// osFile is a WAL file of the OS VFS. Between begin and end, writes that
// continue each other are collected (they are whole encrypted blocks that
// no other connection reads, see walFile.writeOut) and written with one
// call at end. Anything else writes them first.
type osFile struct {
	vfs.File
	collecting bool
	start      int64
	buf        []byte
}

func (f *osFile) begin() { f.collecting = true }

func (f *osFile) end() error {
	f.collecting = false
	return f.flush()
}

func (f *osFile) flush() error {
	if len(f.buf) == 0 {
		return nil
	}
	_, err := f.File.WriteAt(f.buf, f.start)
	f.buf = f.buf[:0]
	return err
}

func (f *osFile) WriteAt(p []byte, off int64) (int, error) {
	if !f.collecting {
		if err := f.flush(); err != nil {
			return 0, err
		}
		return f.File.WriteAt(p, off)
	}
	if len(f.buf) > 0 && off != f.start+int64(len(f.buf)) {
		if err := f.flush(); err != nil {
			return 0, err
		}
	}
	if len(f.buf) == 0 {
		f.start = off
	}
	f.buf = append(f.buf, p...)
	return len(p), nil
}

func (f *osFile) ReadAt(p []byte, off int64) (int, error) {
	if len(f.buf) > 0 && off < f.start+int64(len(f.buf)) && off+int64(len(p)) > f.start {
		if err := f.flush(); err != nil {
			return 0, err
		}
	}
	return f.File.ReadAt(p, off)
}

func (f *osFile) Sync(flags vfs.SyncFlag) error {
	return errors.Join(f.flush(), f.File.Sync(flags))
}

func (f *osFile) Size() (int64, error) {
	if err := f.flush(); err != nil {
		return 0, err
	}
	return f.File.Size()
}

func (f *osFile) Truncate(size int64) error {
	return errors.Join(f.flush(), f.File.Truncate(size))
}

func (f *osFile) Close() error {
	return errors.Join(f.flush(), f.File.Close())
}

// The optional methods of the OS file, forwarded.

func (f *osFile) Unwrap() vfs.File               { return f.File }
func (f *osFile) SharedMemory() vfs.SharedMemory { return vfsutil.WrapSharedMemory(f.File) }
func (f *osFile) LockState() vfs.LockLevel       { return vfsutil.WrapLockState(f.File) }
func (f *osFile) PersistWAL() bool               { return vfsutil.WrapPersistWAL(f.File) }
func (f *osFile) SetPersistWAL(keep bool)        { vfsutil.WrapSetPersistWAL(f.File, keep) }
func (f *osFile) PowersafeOverwrite() bool       { return vfsutil.WrapPowersafeOverwrite(f.File) }
func (f *osFile) SetPowersafeOverwrite(psow bool) {
	vfsutil.WrapSetPowersafeOverwrite(f.File, psow)
}
func (f *osFile) HasMoved() (bool, error)   { return vfsutil.WrapHasMoved(f.File) }
func (f *osFile) SizeHint(size int64) error { return vfsutil.WrapSizeHint(f.File, size) }
func (f *osFile) ChunkSize(size int)        { vfsutil.WrapChunkSize(f.File, size) }

// CreatePrivate creates an empty file at path, readable and writable by its
// owner only (0600), unless something is there already. The OS VFS creates
// the files SQLite asks for (the WAL, journals, a VACUUM INTO copy) with
// mode 0666 less the umask, 0644 on most systems; creating them first, just
// before SQLite opens them with "create if missing", means they are never
// readable by others, not even for a moment. An empty WAL or journal is
// what SQLite would have created.
//
// It fails silently: if the file cannot be created here, SQLite's own
// open fails right after with the precise error.
func CreatePrivate(path string) {
	// O_EXCL also refuses to follow a symlink planted at path.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		f.Close()
	}
}
