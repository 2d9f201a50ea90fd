package seat

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// The connection between a seat and its primary carries frames: a 4-byte
// big-endian length, then one JSON object. A seat sends requests (ID,
// method, body); the primary answers each with the same ID (body or
// error) and pushes events (ID 0, event name, body) on the same
// connection. Requests may overlap: answers come as they finish.

// MaxFrame bounds one frame, so a peer cannot make the other allocate
// without limit.
const MaxFrame = 8 << 20

// Frame is one message on the wire.
type Frame struct {
	ID     uint64          `json:"id,omitempty"`
	Method string          `json:"method,omitempty"` // a request
	Event  string          `json:"event,omitempty"`  // a pushed event
	Body   json.RawMessage `json:"body,omitempty"`
	Error  *WireError      `json:"error,omitempty"` // a failed request
}

// WireError is a failed call as the seat receives it: a stable code (a
// message code of internal/msgcode, or one of this package's) and an
// English sentence for logs and the CLI.
type WireError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *WireError) Error() string { return e.Message }

// Event is something the primary tells every seat.
type Event struct {
	Name string          `json:"name"`
	Body json.RawMessage `json:"body,omitempty"`
}

// Caller is a seat's end of the connection, where the seat's Go side will
// forward the UI's calls (a bound method's name and JSON arguments) and
// take the primary's events from. client.Conn is one.
type Caller interface {
	Call(ctx context.Context, method string, in, out any) error
	Events() <-chan Event
	Done() <-chan struct{}
	Err() error
}

// Codes of the errors this package defines; the seat maps them back to
// the sentinels (ErrorFor).
const (
	CodeUnknownMethod = "seat.unknownMethod"
	CodeCodeWrong     = "seat.codeWrong"
	CodeCodeUsed      = "seat.codeUsed"
	CodeCodeExpired   = "seat.codeExpired"
	CodePairingPaused = "seat.pairingPaused"
	CodeInternal      = "seat.internal"
	CodeBadRequest    = "seat.badRequest"
)

// ErrUnknownMethod: the primary has no such method (an older primary).
var ErrUnknownMethod = errors.New("the primary does not know this call: update the primary")

var codeErrors = map[string]error{
	CodeUnknownMethod: ErrUnknownMethod,
	CodeCodeWrong:     ErrCodeWrong,
	CodeCodeUsed:      ErrCodeUsed,
	CodeCodeExpired:   ErrCodeExpired,
	CodePairingPaused: ErrPairingPaused,
}

// CodeOf is the wire code of one of this package's errors, or "".
func CodeOf(err error) string {
	for code, e := range codeErrors {
		if errors.Is(err, e) {
			return code
		}
	}
	return ""
}

// Err turns a received error into the sentinel it stands for, so a seat
// matches it with errors.Is; other codes stay a *WireError.
func (e *WireError) Err() error {
	if s, ok := codeErrors[e.Code]; ok {
		return s
	}
	return e
}

// WriteFrame writes one frame. Callers serialise writes.
func WriteFrame(w io.Writer, f Frame) error {
	b, err := EncodeFrame(f)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// EncodeFrame is a frame as written: the length, then the JSON object. The
// body goes in as it is, not copied through encoding/json (which would
// check and compact it again: an inbox page crossed it three times on the
// primary), so it must be JSON made by encoding/json, as every body is; a
// malformed one makes the peer refuse the frame. An event is encoded once
// for every seat.
func EncodeFrame(f Frame) ([]byte, error) {
	buf := make([]byte, 4, 4+64+len(f.Body))
	buf = append(buf, '{')
	field := func(name string) {
		if len(buf) > 5 {
			buf = append(buf, ',')
		}
		buf = append(buf, '"')
		buf = append(buf, name...)
		buf = append(buf, '"', ':')
	}
	if f.ID != 0 {
		field("id")
		buf = strconv.AppendUint(buf, f.ID, 10)
	}
	for _, sf := range [...]struct{ name, v string }{{"method", f.Method}, {"event", f.Event}} {
		if sf.v == "" {
			continue
		}
		s, err := json.Marshal(sf.v)
		if err != nil {
			return nil, fmt.Errorf("encode frame: %w", err)
		}
		field(sf.name)
		buf = append(buf, s...)
	}
	if len(f.Body) > 0 {
		field("body")
		buf = append(buf, f.Body...)
	}
	if f.Error != nil {
		e, err := json.Marshal(f.Error)
		if err != nil {
			return nil, fmt.Errorf("encode frame: %w", err)
		}
		field("error")
		buf = append(buf, e...)
	}
	buf = append(buf, '}')
	n := len(buf) - 4
	if n > MaxFrame {
		return nil, fmt.Errorf("frame of %d bytes is over the limit of %d", n, MaxFrame)
	}
	binary.BigEndian.PutUint32(buf, uint32(n))
	return buf, nil
}

// ReadFrame reads one frame.
func ReadFrame(r io.Reader) (Frame, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Frame{}, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxFrame {
		return Frame{}, fmt.Errorf("frame of %d bytes is over the limit of %d", n, MaxFrame)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return Frame{}, fmt.Errorf("read frame: %w", err)
	}
	var f Frame
	if err := json.Unmarshal(b, &f); err != nil {
		return Frame{}, fmt.Errorf("decode frame: %w", err)
	}
	return f, nil
}
