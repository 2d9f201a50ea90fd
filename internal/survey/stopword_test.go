package survey

import "testing"

// Stop words are compared by the one search key, as a customer types them.
func TestStopWords(t *testing.T) {
	for text, want := range map[string]bool{
		"やめる": true, "ヤメル": true, " ﾔﾒﾙ ": true, "ＳＴＯＰ": true, "Stop": true, "中止": true, "終了": true,
		"やめる理由": false, "ストップ高": false, "はい": false, "": false,
	} {
		if got := isStopWord(text); got != want {
			t.Errorf("isStopWord(%q) = %v, want %v", text, got, want)
		}
	}
}
