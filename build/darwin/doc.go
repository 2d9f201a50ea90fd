// Package darwin holds the macOS packaging files (Info.plist, entitlements, package.sh). It has
// no code; plist_test.go checks the files and the script's dry run on any OS.
package darwin
