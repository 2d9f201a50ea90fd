//go:build !linux

package desktop

import "time"

// endWebviewProcesses: WebView2 (Windows) ends its processes when its
// window goes, and removeWebview retries until they have let go of the
// folder; WKWebView (macOS) keeps no folder of the run.
func endWebviewProcesses(time.Duration) {}
