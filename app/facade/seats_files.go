package facade

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tsunagu/internal/auth"
	"tsunagu/internal/export"
	"tsunagu/internal/msgcode"
	"tsunagu/internal/seat/forward"
	"tsunagu/internal/seat/primary"
)

// seatUse is what a bound method that shows a file dialog or works on a
// file path does when a seat (子機) calls it. The primary runs a seat's
// calls, so such a method would open its dialog on the primary's screen
// and read or write the file on the primary's disk.
type seatUse int

const (
	// seatRuns: runs on the primary as for its window; the file it touches
	// is the primary's own (a backup into its backup folder).
	seatRuns seatUse = iota + 1
	// seatPrimaryOnly: meaningless on a seat (the primary's backup folder,
	// its updates, its seat port); refused with errors.seatPrimaryOnly and
	// hidden in a seat's screen.
	seatPrimaryOnly
	// seatFile: the seat's file. The dialog is the seat's own, the file is
	// on the seat's disk; the primary makes an export's bytes or takes an
	// opened file's in memory and writes nothing on its disk
	// (internal/seat/forward files.go; seatFileCall). A path a seat sends
	// is never opened on the primary: only the file that seat opened.
	seatFile
)

// seatFileUse lists every bound method that uses a file dialog or a local
// path, with what a seat's call does. TestSeatFileUseCoversEveryDialog fails
// for a new one that is not here.
var seatFileUse = map[string]seatUse{
	// Primary only.
	"PickBackupFolder":   seatPrimaryOnly,
	"SetBackupSettings":  seatPrimaryOnly,
	"RestoreKeyFromCode": seatPrimaryOnly,
	"CheckForUpdate":     seatPrimaryOnly,
	"InstallUpdate":      seatPrimaryOnly,
	"SetSeatPort":        seatPrimaryOnly,
	"AllowSeatFirewall":  seatPrimaryOnly,
	// The primary's own backup folder: no dialog, nothing on the seat.
	"BackupNow": seatRuns,
	// Files the person picks: the seat's own.
	"PickImportFile":       seatFile,
	"ImportPreview":        seatFile, // the opened file, kept in memory
	"RunImport":            seatFile, // likewise
	"ImportSurveyAnswers":  seatFile, // likewise
	"SaveImportReport":     seatFile,
	"ExportCustomers":      seatFile,
	"ExportAudit":          seatFile,
	"ExportCampaignReport": seatFile,
	"ExportSurveyAnswers":  seatFile,
	"ExportRouteReport":    seatFile,
	"ExportFormAnswers":    seatFile,
	"ExportBookingsICS":    seatFile,
	"SaveRouteQRCode":      seatFile,
	"SaveRoutePoster":      seatFile,
	"SaveMessageContent":   seatFile,
}

// seatRefusal is the message code a seat's call of method is refused with,
// or "" if it runs.
func seatRefusal(method string) string {
	if seatFileUse[method] == seatPrimaryOnly {
		return msgcode.SeatPrimaryOnly
	}
	return ""
}

// openedKeep is how long the primary keeps a seat's opened file (for the
// import wizard's preview and run) at most, signed in or not.
const openedKeep = 30 * time.Minute

// seatFiles is a client's state of its seat file methods. The window's
// (and the dev bridge's seat pages') step is always nil: they use
// Options.FilePicker and this PC's disk.
type seatFiles struct {
	call sync.Mutex               // one file method of a seat at a time: step is that call's
	step atomic.Pointer[fileStep] // the running seat file method's; nil otherwise

	mu     sync.Mutex
	opened *openedFile // the file the seat last opened, in memory only
}

// fileStep is one sending of a seat's file method.
type fileStep struct {
	path    string // the path chosen on the seat; "" on the first sending
	content []byte // an opened file's content (second sending of an open)
	ask     *forward.FileAsk
	out     *forward.Buffer // a saved file's bytes
}

// openedFile is a file a seat opened: its bytes for the import's preview
// and run, tied to the session that opened it.
type openedFile struct {
	path    string
	content []byte
	session *auth.Session
	expire  *time.Timer
}

// drop forgets the opened file (sign-out, lock, an ended session, a
// revoked seat, its import done, openedKeep passed).
func (f *seatFiles) drop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.opened != nil {
		f.opened.expire.Stop()
		f.opened = nil
	}
}

// seatFileCall runs a seatFile method for a seat (internal/seat/forward
// files.go): on the first sending up to its dialog, answering what the
// seat's dialog should ask; on the second with the seat's choice, an
// export made in memory and its bytes answered, or an opened file kept.
func (a *App) seatFileCall(sc *seatClient, p primary.Peer, req forward.Request) (json.RawMessage, error) {
	f := &sc.client.files
	f.call.Lock()
	defer f.call.Unlock()
	step := &fileStep{}
	if req.File != nil {
		step.path, step.content = req.File.Path, req.File.Content
		if step.path == "" {
			return forward.Answer{Error: msgcode.Internal}.Encode()
		}
	}
	f.step.Store(step)
	res, err := sc.table.Call(req.Method, req.Args)
	f.step.Store(nil)
	ans := a.answer(req.Method, p, res, err)
	if ans.Error == "" {
		if req.File == nil {
			ans.File = step.ask
		} else if step.out != nil {
			ans.Content = step.out.Bytes()
		}
	}
	return ans.Encode()
}

// saveTo asks where to save a file (the dialog's title, the suggested
// name) and returns the path and the Save that writes the file there; ""
// when the person cancelled: nothing is to be exported or audited then.
// The window: the picker and this PC's disk. A seat: the first sending
// only tells the seat what to ask; the second writes into memory, and the
// seat writes the file.
func (c *Client) saveTo(ctx context.Context, title, name string) (string, export.Save, error) {
	if step := c.files.step.Load(); step != nil {
		if step.path == "" {
			step.ask = &forward.FileAsk{Kind: forward.FileSave, Title: title, Name: name}
			return "", nil, nil
		}
		step.out = &forward.Buffer{}
		return step.path, func(write func(w io.Writer) (int, error)) (int, error) { return write(step.out) }, nil
	}
	fp, err := c.opts.filePicker()
	if err != nil {
		return "", nil, err
	}
	path, err := fp.SaveFile(ctx, title, name)
	if err != nil || path == "" {
		return "", nil, err
	}
	return path, func(write func(w io.Writer) (int, error)) (int, error) { return export.WriteFile(path, write) }, nil
}

// openFile asks for a file to open; "" when cancelled. A seat's file is
// the seat's: its bytes are kept in this client's memory for openedKeep
// at most, tied to the session, for importSource.
func (c *Client) openFile(ctx context.Context, title string) (string, error) {
	if step := c.files.step.Load(); step != nil {
		if step.path == "" {
			step.ask = &forward.FileAsk{Kind: forward.FileOpen, Title: title}
			return "", nil
		}
		if len(step.content) > forward.MaxFile {
			return "", forward.ErrFileTooLarge
		}
		c.files.drop()
		f := &c.files
		of := &openedFile{path: step.path, content: step.content, session: c.currentSession()}
		of.expire = time.AfterFunc(openedKeep, func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.opened == of {
				f.opened = nil
			}
		})
		f.mu.Lock()
		f.opened = of
		f.mu.Unlock()
		return step.path, nil
	}
	fp, err := c.opts.filePicker()
	if err != nil {
		return "", err
	}
	return fp.OpenFile(ctx, title)
}

// importSource is what an import reads for path: for a seat (seat true)
// the file it opened (never a path on the primary's disk, even for an
// empty file; forward.ErrFileGone when it is no longer kept), with its
// file name for the history; for the window seat is false and path is
// read.
func (c *Client) importSource(path string) (data []byte, name string, seat bool, err error) {
	if c.files.step.Load() == nil {
		return nil, "", false, nil
	}
	c.files.mu.Lock()
	defer c.files.mu.Unlock()
	of := c.files.opened
	if of == nil || of.path != path || of.session == nil || of.session != c.currentSession() {
		return nil, "", true, forward.ErrFileGone
	}
	if of.content == nil {
		return []byte{}, baseName(path), true, nil // importer.Options.Data: nil would mean "read path"
	}
	return of.content, baseName(path), true, nil
}

// baseName is the file name of a seat's path, whatever its system's
// separator (a Windows seat's path on another primary).
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// seatFileMethod: the method is one of a seat's files (seatFileCall).
func seatFileMethod(method string) bool { return seatFileUse[method] == seatFile }
