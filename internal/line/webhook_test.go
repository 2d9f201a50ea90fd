package line

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/line/line-bot-sdk-go/v8/linebot/webhook"
)

// LINE's documented signature example.
const (
	docBody      = `{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[]}`
	docSecret    = "8c570fa6dd201bb328f1c1eac23a96d8"
	docSignature = "GhRKmvmHys4Pi8DxkF4+EayaH0OqtJtaZxgTD9fMDLs="
)

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// flip returns s with the byte at i changed to another printable byte.
func flip(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestParseDocVector(t *testing.T) {
	v := NewVerifier(docSecret)
	cb, err := v.Parse([]byte(docBody), docSignature)
	if err != nil {
		t.Fatalf("Parse(LINE's example) = %v", err)
	}
	if cb.Destination != "U8e742f61d673b39c7fff3cecb7536ef0" || len(cb.Events) != 0 {
		t.Fatalf("parsed %+v", cb)
	}
	if n := v.Rejected(); n != 0 {
		t.Fatalf("Rejected = %d after a good body", n)
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name      string
		secret    string
		body      string
		signature string
	}{
		{"flipped body byte", docSecret, flip(docBody, 20), docSignature},
		{"flipped first signature byte", docSecret, docBody, flip(docSignature, 0)},
		{"flipped middle signature byte", docSecret, docBody, flip(docSignature, 20)},
		{"empty signature", docSecret, docBody, ""},
		{"wrong secret", "0c570fa6dd201bb328f1c1eac23a96d8", docBody, docSignature},
		{"signature not base64", docSecret, docBody, "not base64!"},
		{"truncated signature", docSecret, docBody, docSignature[:20]},
		{"empty secret, body signed with it", "", docBody, sign("", []byte(docBody))},
		{"body with appended data", docSecret, docBody + " ", docSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewVerifier(tt.secret)
			cb, err := v.Parse([]byte(tt.body), tt.signature)
			if !errors.Is(err, ErrBadSignature) || cb != nil {
				t.Fatalf("Parse = %v, %v; want ErrBadSignature", cb, err)
			}
			if n := v.Rejected(); n != 1 {
				t.Fatalf("Rejected = %d, want 1", n)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	const private = "private customer text"
	tests := []string{
		`not json ` + private,
		`{"destination":"U1","events":"` + private + `"}`,
		`{"destination":"U1","events":[{"type":"message","message":"` + private + `"}]}`,
	}
	for _, body := range tests {
		v := NewVerifier(docSecret)
		_, err := v.Parse([]byte(body), sign(docSecret, []byte(body)))
		if !errors.Is(err, ErrMalformedWebhook) {
			t.Fatalf("Parse(%q) = %v, want ErrMalformedWebhook", body, err)
		}
		if strings.Contains(err.Error(), private) {
			t.Fatalf("error %q contains the body", err)
		}
		if v.Rejected() != 1 {
			t.Fatalf("Rejected = %d, want 1", v.Rejected())
		}
	}
}

func TestParseEvents(t *testing.T) {
	body := `{"destination":"U8e742f61d673b39c7fff3cecb7536ef0","events":[
		{"type":"message","message":{"type":"text","id":"468789577898262530","quoteToken":"q","text":"こんにちは"},
		 "webhookEventId":"01H810YECXQQZ37VAXPF6H9E6T","deliveryContext":{"isRedelivery":true},"timestamp":1692251666727,
		 "source":{"type":"user","userId":"U4af4980629f9e8e6b4c4d6f3e8f5a0b1"},"replyToken":"38ef843bde154d9b91c21320ffd17a0f","mode":"active"},
		{"type":"unfollow","webhookEventId":"01H810YECXQQZ37VAXPF6H9E6V","deliveryContext":{"isRedelivery":false},"timestamp":1692251666728,
		 "source":{"type":"user","userId":"U4af4980629f9e8e6b4c4d6f3e8f5a0b1"},"mode":"active"}]}`
	cb, err := NewVerifier(docSecret).Parse([]byte(body), sign(docSecret, []byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	if len(cb.Events) != 2 {
		t.Fatalf("%d events", len(cb.Events))
	}
	me, ok := cb.Events[0].(webhook.MessageEvent)
	if !ok {
		t.Fatalf("event 0 is %T", cb.Events[0])
	}
	tm, _ := me.Message.(webhook.TextMessageContent)
	if tm.Text != "こんにちは" || me.ReplyToken == "" || me.DeliveryContext == nil || !me.DeliveryContext.IsRedelivery ||
		me.WebhookEventId != "01H810YECXQQZ37VAXPF6H9E6T" {
		t.Fatalf("message event = %+v", me)
	}
	if _, ok := cb.Events[1].(webhook.UnfollowEvent); !ok {
		t.Fatalf("event 1 is %T", cb.Events[1])
	}
}

// spyWriter records whether anything was written yet, to check the handler
// answers only after the sink returns.
type spyWriter struct {
	*httptest.ResponseRecorder
	written bool
}

func (w *spyWriter) WriteHeader(code int) {
	w.written = true
	w.ResponseRecorder.WriteHeader(code)
}

func (w *spyWriter) Write(b []byte) (int, error) {
	w.written = true
	return w.ResponseRecorder.Write(b)
}

type ctxKey struct{}

func TestHandler(t *testing.T) {
	good := []byte(docBody)
	big := append([]byte(`{"destination":"U1","events":[],"pad":"`), bytes.Repeat([]byte("x"), MaxWebhookBody)...)
	big = append(big, `"}`...)
	sinkErr := errors.New("database is locked")

	tests := []struct {
		name         string
		method       string
		body         []byte
		signature    string
		sinkErr      error
		wantStatus   int
		wantSink     bool
		wantRejected int64
	}{
		{"valid", "POST", good, docSignature, nil, 200, true, 0},
		{"sink fails", "POST", good, docSignature, sinkErr, 500, true, 0},
		{"GET", "GET", nil, "", nil, 405, false, 0},
		{"PUT with a valid body", "PUT", good, docSignature, nil, 405, false, 0},
		{"missing signature", "POST", good, "", nil, 400, false, 1},
		{"forged signature", "POST", good, flip(docSignature, 3), nil, 400, false, 1},
		{"altered body", "POST", []byte(flip(docBody, 30)), docSignature, nil, 400, false, 1},
		{"malformed body, valid signature", "POST", []byte("{"), sign(docSecret, []byte("{")), nil, 400, false, 1},
		{"too large, correctly signed", "POST", big, sign(docSecret, big), nil, 413, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewVerifier(docSecret)
			w := &spyWriter{ResponseRecorder: httptest.NewRecorder()}
			called := false
			h := v.Handler(func(ctx context.Context, req *Webhook) error {
				called = true
				if w.written {
					t.Error("response written before the sink returned")
				}
				if ctx.Value(ctxKey{}) != "req" {
					t.Error("sink did not get the request's context")
				}
				if req.Destination != "U8e742f61d673b39c7fff3cecb7536ef0" {
					t.Errorf("sink got destination %q", req.Destination)
				}
				return tt.sinkErr
			})
			r := httptest.NewRequest(tt.method, "/webhook", bytes.NewReader(tt.body))
			r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, "req"))
			if tt.signature != "" {
				r.Header.Set("X-Line-Signature", tt.signature)
			}
			h.ServeHTTP(w, r)
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", w.Code, tt.wantStatus)
			}
			if called != tt.wantSink {
				t.Fatalf("sink called = %v, want %v", called, tt.wantSink)
			}
			if n := v.Rejected(); n != tt.wantRejected {
				t.Fatalf("Rejected = %d, want %d", n, tt.wantRejected)
			}
			if strings.Contains(w.Body.String(), "destination") || strings.Contains(w.Body.String(), sinkErr.Error()) {
				t.Fatalf("response leaks the body or the sink error: %q", w.Body.String())
			}
		})
	}
}

// TestHandlerTooLargeWithoutContentLength covers a chunked body, where the
// size is only known while reading.
func TestHandlerTooLargeWithoutContentLength(t *testing.T) {
	v := NewVerifier(docSecret)
	srv := httptest.NewServer(v.Handler(func(context.Context, *Webhook) error {
		t.Error("sink called for an oversized body")
		return nil
	}))
	defer srv.Close()
	body := bytes.Repeat([]byte("x"), MaxWebhookBody+1)
	req, err := http.NewRequest("POST", srv.URL, struct{ *bytes.Reader }{bytes.NewReader(body)}) // hide the length
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Line-Signature", sign(docSecret, body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge || req.ContentLength != 0 {
		t.Fatalf("status = %d (content length %d), want 413 for a chunked body", res.StatusCode, req.ContentLength)
	}
	if v.Rejected() != 1 {
		t.Fatalf("Rejected = %d, want 1", v.Rejected())
	}
}
