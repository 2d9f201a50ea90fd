// Package forward is a seat's (子機) Go side of the bound services: the UI
// calls a bound method by name with JSON arguments, as it would in a
// primary's window, and the forwarder sends the call over the seat's mutual
// TLS session to the primary, which runs it on this seat's own facade
// client (app/facade/seats.go). The primary's events come back the same way.
//
// Nothing is queued: while the primary is away a call fails at once with
// CodeAway, and the UI says so. Like the rest of the seat side, this package
// links no database, store or feature (internal/archtest), so the message
// codes it produces are plain strings that internal/msgcode registers.
package forward

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"tsunagu/internal/seat"
	"tsunagu/internal/seat/client"
)

// Method is the primary's method that runs a bound method for a seat.
const Method = "call"

// Request is the body of a forwarded call.
type Request struct {
	Method string          `json:"method"`         // the bound method's name (unique across services)
	Args   json.RawMessage `json:"args"`           // a JSON array, in the method's order
	File   *FileStep       `json:"file,omitempty"` // the second sending of a file method (files.go)
}

// Answer is the primary's answer to a forwarded call: the method's result,
// or the message code and wrong fields of its error (as the dev bridge
// sends them to a browser).
type Answer struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
	Fields json.RawMessage `json:"fields,omitempty"` // []fielderr.FieldError
	// A file method (files.go): the dialog to show (with Result the
	// method's result when it is cancelled), or the saved file's bytes.
	File    *FileAsk `json:"file,omitempty"`
	Content []byte   `json:"content,omitempty"`
}

// result is the method's result, null for none.
func (a Answer) result() json.RawMessage {
	if len(a.Result) == 0 {
		return json.RawMessage("null")
	}
	return a.Result
}

// Encode is the answer as JSON, with Result and Fields (JSON made by
// encoding/json) put in as they are: json.Marshal would check and compact
// a whole page of results once more.
func (a Answer) Encode() (json.RawMessage, error) {
	b := make([]byte, 0, 32+len(a.Result)+len(a.Fields))
	b = append(b, '{')
	if len(a.Result) > 0 {
		b = append(b, `"result":`...)
		b = append(b, a.Result...)
	}
	if a.Error != "" {
		code, err := json.Marshal(a.Error)
		if err != nil {
			return nil, err
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, `"error":`...)
		b = append(b, code...)
	}
	if len(a.Fields) > 0 {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, `"fields":`...)
		b = append(b, a.Fields...)
	}
	for _, f := range []struct {
		name string
		v    any
		set  bool
	}{{"file", a.File, a.File != nil}, {"content", a.Content, len(a.Content) > 0}} {
		if !f.set {
			continue
		}
		v, err := json.Marshal(f.v)
		if err != nil {
			return nil, err
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, `"`+f.name+`":`...)
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

// Message codes the seat itself produces (internal/msgcode registers them;
// both catalogs translate them).
const (
	// CodeAway: the primary cannot be reached now; the seat keeps trying.
	CodeAway = "errors.primaryAway"
	// CodeRefused: the primary refuses this seat (revoked, or not paired).
	CodeRefused = "errors.seatRefused"
	// CodeInternal and CodeNotFound are msgcode's own.
	CodeInternal = "errors.internal"
	CodeNotFound = "errors.notFound"
)

// EventConnection is the UI event of the seat's connection to its primary,
// with a Connection.
const EventConnection = "seat:connection"

// Connection is where the seat's link to its primary stands.
type Connection struct {
	State string `json:"state"` // connecting, connected, away, refused
	Code  string `json:"code"`  // the message code of away/refused, "" otherwise
}

// Error is a failed forwarded call as the UI gets it; its text is the
// same wire form as msgcode.Error's (the bare code, or with fields the JSON
// {"code":…,"fields":[…]}), so the Wails transport reads both alike.
type Error struct {
	Code   string          `json:"code"`
	Fields json.RawMessage `json:"fields,omitempty"`
	cause  error
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Code
	}
	b, err := json.Marshal(e)
	if err != nil {
		return e.Code
	}
	return string(b)
}

// Unwrap is the transport's error behind CodeAway or CodeRefused (logs).
func (e *Error) Unwrap() error { return e.cause }

// Emitter takes the events for the UI (the dev bridge's SSE broker, the
// desktop's Wails events).
type Emitter interface {
	Emit(name string, data any)
}

// Caller is the seat's session with its primary (client.Session).
type Caller interface {
	Call(ctx context.Context, method string, in, out any) error
}

// Forwarder sends the UI's calls to the primary.
type Forwarder struct {
	c      Caller
	picker Picker // the seat's own file dialogs (files.go); nil: none
}

// New returns a forwarder over c.
func New(c Caller) *Forwarder { return &Forwarder{c: c} }

// Call runs the bound method on the primary with args (a JSON array) and
// returns its JSON result. Its error is always an *Error. MethodRole is
// answered here, on the seat.
func (f *Forwarder) Call(ctx context.Context, method string, args json.RawMessage) (json.RawMessage, error) {
	if method == MethodRole {
		return f.role()
	}
	if len(args) == 0 {
		args = json.RawMessage("[]")
	}
	req := Request{Method: method, Args: args}
	ans, err := f.send(ctx, req)
	if err != nil {
		return nil, err
	}
	if ans.File != nil {
		return f.file(ctx, req, *ans.File, ans.result())
	}
	return ans.result(), nil
}

// send sends one request and returns the primary's answer; its error (the
// link's or the method's) is an *Error.
func (f *Forwarder) send(ctx context.Context, req Request) (Answer, error) {
	var ans Answer
	if err := f.c.Call(ctx, Method, req, &ans); err != nil {
		return Answer{}, &Error{Code: CodeOf(err), cause: err}
	}
	if ans.Error != "" {
		return Answer{}, &Error{Code: ans.Error, Fields: ans.Fields}
	}
	return ans, nil
}

// Forward is Call for a bound method: the argument list as the UI gives it.
func (f *Forwarder) Forward(ctx context.Context, method string, args []json.RawMessage) (json.RawMessage, error) {
	b, err := json.Marshal(args)
	if err != nil {
		return nil, &Error{Code: CodeInternal, cause: fmt.Errorf("encode the arguments of %s: %w", method, err)}
	}
	if args == nil {
		b = []byte("[]")
	}
	return f.Call(ctx, method, b)
}

// CodeOf is the message code of a transport error: the primary away, the
// seat refused, or (an older primary, a malformed answer) internal.
func CodeOf(err error) string {
	switch {
	case errors.Is(err, client.ErrAway):
		return CodeAway
	case errors.Is(err, client.ErrRevokedNow), errors.Is(err, seat.ErrRefused), errors.Is(err, seat.ErrWrongPrimary), errors.Is(err, client.ErrNotPaired):
		return CodeRefused
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return CodeAway
	default:
		return CodeInternal
	}
}

// Pump passes the primary's events (from client.Session.Events) to emit
// until events is closed. The server's own seat.* events are about the
// seat link itself, not the UI contract, and stay here.
func Pump(events <-chan seat.Event, emit Emitter) {
	for ev := range events {
		if strings.HasPrefix(ev.Name, "seat.") {
			continue
		}
		body := ev.Body
		if len(body) == 0 {
			body = json.RawMessage("null")
		}
		emit.Emit(ev.Name, body)
	}
}

// OnState is a client.Session state callback that tells the UI
// (EventConnection).
func OnState(emit Emitter) func(client.State, error) {
	return func(st client.State, err error) {
		emit.Emit(EventConnection, ConnectionOf(st, err))
	}
}

// ConnectionOf is the UI's view of a session state.
func ConnectionOf(st client.State, err error) Connection {
	c := Connection{State: string(st)}
	switch st {
	case client.StateAway:
		c.Code = CodeAway
	case client.StateRefused:
		c.Code = CodeRefused
	}
	return c
}
