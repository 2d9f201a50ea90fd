package linesim

import (
	"reflect"
	"testing"
)

func TestMessageActions(t *testing.T) {
	flex := `{"type":"flex","altText":"x","contents":{"type":"bubble",
		"footer":{"type":"box","layout":"vertical","contents":[{"type":"button","action":{"type":"postback","label":"F","data":"f"}}]},
		"body":{"type":"box","layout":"vertical","contents":[
			{"type":"button","action":{"type":"postback","label":"B1","data":"b1","displayText":"一"}},
			{"type":"button","action":{"type":"message","label":"B2","text":"二"}}]}},
		"quickReply":{"items":[{"type":"action","action":{"type":"datetimepicker","label":"日付","data":"d","mode":"date"}}]}}`
	got := messageActions(3, []byte(flex), true)
	var labels []string
	for i, a := range got {
		if a.Index != i || a.Delivery != 3 {
			t.Fatalf("action %d = %+v", i, a)
		}
		labels = append(labels, a.Label)
	}
	// Body before footer (the bubble's order), quick replies last.
	if want := []string{"B1", "B2", "F", "日付"}; !reflect.DeepEqual(labels, want) {
		t.Fatalf("labels = %v, want %v", labels, want)
	}
	if got[0].Display != "一" || got[1].Text != "二" || got[3].Mode != "date" || !got[3].QuickReply || got[0].QuickReply {
		t.Fatalf("actions = %+v", got)
	}
	if n := len(messageActions(3, []byte(flex), false)); n != 3 {
		t.Fatalf("without quick replies: %d actions", n)
	}
}
