package forward

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"tsunagu/internal/seat"
	"tsunagu/internal/seat/client"
)

// fakePrimary answers "call" as the primary's facade would.
type fakePrimary struct {
	got Request
	ans Answer
	err error
}

func (f *fakePrimary) Call(_ context.Context, method string, in, out any) error {
	if method != Method {
		return errors.New("wrong method " + method)
	}
	f.got = in.(Request)
	if f.err != nil {
		return f.err
	}
	b, _ := json.Marshal(f.ans)
	return json.Unmarshal(b, out)
}

func TestForward(t *testing.T) {
	p := &fakePrimary{ans: Answer{Result: json.RawMessage(`{"id":9}`)}}
	f := New(p)
	res, err := f.Forward(context.Background(), "Reply", []json.RawMessage{json.RawMessage(`3`), json.RawMessage(`"こんにちは"`)})
	if err != nil || string(res) != `{"id":9}` || p.got.Method != "Reply" || string(p.got.Args) != `[3,"こんにちは"]` {
		t.Fatalf("Forward = %s, %v; sent %+v", res, err, p.got)
	}
	// No arguments travel as an empty list, a void result as null.
	p.ans = Answer{}
	if res, err := f.Forward(context.Background(), "MarkRead", nil); err != nil || string(res) != "null" || string(p.got.Args) != "[]" {
		t.Fatalf("void: %s %v %s", res, err, p.got.Args)
	}

	// The primary's error: its code, with fields in msgcode.Error's wire form.
	p.ans = Answer{Error: "errors.invalidInput", Fields: json.RawMessage(`[{"field":"login","code":"errors.fieldRequired"}]`)}
	_, err = f.Forward(context.Background(), "CreateStaff", nil)
	var fe *Error
	if !errors.As(err, &fe) || fe.Code != "errors.invalidInput" || err.Error() != `{"code":"errors.invalidInput","fields":[{"field":"login","code":"errors.fieldRequired"}]}` {
		t.Fatalf("field error: %v", err)
	}
	p.ans = Answer{Error: "errors.forbidden"}
	if _, err := f.Forward(context.Background(), "ListStaff", nil); err == nil || err.Error() != "errors.forbidden" {
		t.Fatalf("a bare code: %v", err)
	}

	// The link's own failures.
	for want, cause := range map[string]error{
		CodeAway:     errors.Join(client.ErrAway, errors.New("connection reset")),
		CodeRefused:  client.ErrRevokedNow,
		CodeInternal: seat.ErrUnknownMethod,
	} {
		p.err = cause
		_, err := f.Forward(context.Background(), "Conversations", nil)
		if !errors.As(err, &fe) || fe.Code != want || err.Error() != want || !errors.Is(err, cause) {
			t.Errorf("%v: %v (want %s)", cause, err, want)
		}
	}
}

type emits struct{ names []string }

func (e *emits) Emit(name string, data any) {
	b, _ := json.Marshal(data)
	e.names = append(e.names, name+" "+string(b))
}

func TestPumpAndState(t *testing.T) {
	ch := make(chan seat.Event, 3)
	ch <- seat.Event{Name: "seat.online", Body: json.RawMessage(`{"name":"窓口2"}`)}
	ch <- seat.Event{Name: "inbox:changed", Body: json.RawMessage(`{"conversationId":4}`)}
	ch <- seat.Event{Name: "inbox:deadLetters"}
	close(ch)
	e := &emits{}
	Pump(ch, e)
	OnState(e)(client.StateAway, errors.New("gone"))
	OnState(e)(client.StateConnected, nil)
	want := []string{`inbox:changed {"conversationId":4}`, `inbox:deadLetters null`,
		`seat:connection {"state":"away","code":"errors.primaryAway"}`, `seat:connection {"state":"connected","code":""}`}
	if len(e.names) != len(want) {
		t.Fatalf("got %v", e.names)
	}
	for i := range want {
		if e.names[i] != want[i] {
			t.Errorf("event %d: %s, want %s", i, e.names[i], want[i])
		}
	}
}

// TestAnswerEncode: the hand-built answer reads back as encoding/json's.
func TestAnswerEncode(t *testing.T) {
	for _, a := range []Answer{
		{},
		{Result: json.RawMessage(`{"conversations":[{"id":1,"name":"山田"}],"next":""}`)},
		{Result: json.RawMessage(`null`)},
		{Error: "errors.customerStale"},
		{Error: "errors.validation", Fields: json.RawMessage(`[{"field":"name","code":"errors.required"}]`)},
	} {
		enc, err := a.Encode()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(a)
		var got, exp Answer
		if err := json.Unmarshal(enc, &got); err != nil {
			t.Fatalf("%+v encoded as %s: %v", a, enc, err)
		}
		json.Unmarshal(want, &exp)
		if string(got.Result) != string(exp.Result) || got.Error != exp.Error || string(got.Fields) != string(exp.Fields) {
			t.Fatalf("encoded %s, encoding/json %s", enc, want)
		}
	}
}
