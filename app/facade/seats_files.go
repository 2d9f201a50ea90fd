package facade

import "tsunagu/internal/msgcode"

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
	// seatNoFiles: a file the person picks (an export, an import, saving
	// an image); refused with errors.seatNoFiles until the seat's own
	// dialog and the file's bytes over the link do it (docs/seats.md).
	seatNoFiles
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
	// Files the person picks.
	"PickImportFile":       seatNoFiles,
	"ImportPreview":        seatNoFiles, // a path on the primary's disk
	"RunImport":            seatNoFiles, // likewise
	"SaveImportReport":     seatNoFiles,
	"ExportCustomers":      seatNoFiles,
	"ExportAudit":          seatNoFiles,
	"ExportCampaignReport": seatNoFiles,
	"ExportSurveyAnswers":  seatNoFiles,
	"ExportRouteReport":    seatNoFiles,
	"ExportFormAnswers":    seatNoFiles,
	"ExportBookingsICS":    seatNoFiles,
	"SaveRouteQRCode":      seatNoFiles,
	"SaveRoutePoster":      seatNoFiles,
	"SaveMessageContent":   seatNoFiles,
}

// seatRefusal is the message code a seat's call of method is refused with,
// or "" if it runs.
func seatRefusal(method string) string {
	switch seatFileUse[method] {
	case seatPrimaryOnly:
		return msgcode.SeatPrimaryOnly
	case seatNoFiles:
		return msgcode.SeatNoFiles
	}
	return ""
}
