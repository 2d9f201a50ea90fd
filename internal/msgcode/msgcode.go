// Package msgcode is the one registry of message codes: what the UI shows
// for an error. Every code is a key of the frontend's ja/en catalogs (a
// frontend test fails for a code without both), and every error a bound
// method returns goes through Code, so a raw Go error never reaches the
// screen. A new error a person should understand gets a line in rules().
package msgcode

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"tsunagu/internal/seat/firewall"

	"tsunagu/internal/auth"
	"tsunagu/internal/automation"
	"tsunagu/internal/autoreply"
	"tsunagu/internal/backup"
	"tsunagu/internal/booking"
	"tsunagu/internal/campaign"
	"tsunagu/internal/customer"
	"tsunagu/internal/drafts"
	"tsunagu/internal/engine"
	"tsunagu/internal/erasure"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/forms"
	"tsunagu/internal/importer"
	"tsunagu/internal/inbox"
	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/linking"
	"tsunagu/internal/mail"
	"tsunagu/internal/outbox"
	"tsunagu/internal/recovery"
	"tsunagu/internal/relayclient"
	"tsunagu/internal/richmenu"
	"tsunagu/internal/routes"
	"tsunagu/internal/seat"
	seatclient "tsunagu/internal/seat/client"
	"tsunagu/internal/seat/forward"
	seatlan "tsunagu/internal/seat/lan"
	seatprimary "tsunagu/internal/seat/primary"
	"tsunagu/internal/secrets"
	"tsunagu/internal/segment"
	"tsunagu/internal/sms"
	"tsunagu/internal/store"
	"tsunagu/internal/survey"
	"tsunagu/internal/update"
)

// Error is what the UI gets for a failed call: its message code and, for a
// validation failure, the wrong fields (fielderr). Error() is its one wire
// form, which Wails hands to the UI as the rejection's text: the bare code,
// or with fields the JSON of Error ({"code":…,"fields":[…]}); the UI's
// toApiError reads both.
type Error struct {
	Code   string                `json:"code"`
	Fields []fielderr.FieldError `json:"fields,omitempty"`
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Code
	}
	b, err := json.Marshal(e)
	if err != nil { // cannot happen for strings and ints; the code alone still says what failed
		return e.Code
	}
	return string(b)
}

// New returns the error for code.
func New(code string) error { return &Error{Code: code} }

// For is err as the UI gets it: its code (Code) and the wrong fields it
// carries (fielderr), nil for nil.
func For(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Code(err), Fields: fielderr.Fields(err)}
}

// Code maps err to the message code shown to staff: its own code for an
// Error, the first rule whose error err wraps, else Internal.
func Code(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	for _, r := range rules() {
		for _, target := range r.errs {
			if errors.Is(err, target) {
				return r.code
			}
		}
		if r.as != nil && r.as(err) {
			return r.code
		}
	}
	return Internal
}

// Codes is every code the registry can produce, for the check that the
// frontend translates each of them.
func Codes() []string {
	seen := map[string]bool{}
	var out []string
	add := func(c string) {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	for _, c := range own() {
		add(c)
	}
	for _, c := range fielderr.Codes() {
		add(c)
	}
	for _, r := range rules() {
		add(r.code)
	}
	return out
}

type rule struct {
	code string
	errs []error
	as   func(error) bool // for error types rather than values
}

// rules in order: the first match wins, so a specific error comes before a
// general one it may wrap (LINE's quota errors before any LINE API error,
// cancellation last).
func rules() []rule {
	return []rule{
		// Data folder, keychain and database.
		{code: NotFound, errs: []error{inbox.ErrNotFound, linesim.ErrUnknownCustomer, linesim.ErrNoAction, auth.ErrNotFound,
			customer.ErrNotFound, linking.ErrNotFound, campaign.ErrNotFound, segment.ErrNotFound, survey.ErrNotFound,
			richmenu.ErrNotFound, autoreply.ErrNotFound, automation.ErrNotFound, erasure.ErrNotFound, routes.ErrNotFound, forms.ErrNotFound, booking.ErrNotFound}},
		{code: KeychainLocked, errs: []error{secrets.ErrLocked}},
		{code: KeychainUnavailable, errs: []error{secrets.ErrUnavailable}},
		{code: ChannelInvalid, errs: []error{secrets.ErrInvalid}},
		{code: DBKeyMissing, errs: []error{secrets.ErrNotFound, engine.ErrKeyMissing}},
		{code: DBWrongKey, errs: []error{store.ErrWrongKey}},
		{code: DBPlaintext, errs: []error{store.ErrPlaintext, store.ErrNotEncrypted}},
		{code: DBTooNew, errs: []error{store.ErrTooNew}},
		{code: RecoveryBadCode, errs: []error{recovery.ErrBadCode}},
		{code: RecoveryNoFile, errs: []error{recovery.ErrNoFile}},
		{code: RecoveryKeyPresent, errs: []error{engine.ErrKeyPresent}},

		// Inbox and LINE.
		{code: EmptyMessage, errs: []error{inbox.ErrEmpty}},
		{code: MessageTooLong, errs: []error{inbox.ErrTooLong}},
		{code: ReplyLinksUntrackable, errs: []error{inbox.ErrLinksUntrackable}},
		{code: Unreachable, errs: []error{inbox.ErrUnreachable, line.ErrUnreachable}},
		{code: NotRetrying, errs: []error{inbox.ErrNotRetrying}},
		{code: MonthlyLimit, errs: []error{line.ErrMonthlyLimit}},
		{code: QuotaExceeded, errs: []error{line.ErrQuotaExceeded}},
		{code: SendFailed, errs: []error{survey.ErrNotSent}, as: func(err error) bool { var e *line.APIError; return errors.As(err, &e) }},
		{code: ImageInvalid, errs: []error{inbox.ErrBadImage}},
		{code: ImageTooLarge, errs: []error{inbox.ErrImageSize}},
		{code: NoMediaHost, errs: []error{inbox.ErrNoMediaHost}},
		{code: ContentMasked, errs: []error{inbox.ErrMasked}},
		{code: NotSandbox, errs: []error{engine.ErrNotSandbox}},
		{code: InvalidInput, errs: []error{inbox.ErrBadStatus, inbox.ErrBadAssignee, inbox.ErrNotAuthor, inbox.ErrTooLongNote,
			inbox.ErrBadCanned, inbox.ErrBadQuery, autoreply.ErrInvalid, auth.ErrInvalid, linesim.ErrBadOutage, backup.ErrInvalidSettings,
			erasure.ErrInvalidRetention}},

		// Staff and sessions.
		{code: Forbidden, errs: []error{auth.ErrForbidden}},
		{code: LockedOut, errs: []error{auth.ErrLockedOut}},
		{code: BadCredentials, errs: []error{auth.ErrBadCredentials}},
		{code: SessionLocked, errs: []error{auth.ErrIdleLocked}},
		{code: SessionEnded, errs: []error{auth.ErrSessionEnded}},
		{code: SetupDone, errs: []error{auth.ErrSetupDone}},
		{code: WeakPassword, errs: []error{auth.ErrWeakPassword}},
		{code: LoginTaken, errs: []error{auth.ErrLoginTaken}},
		{code: LastAdmin, errs: []error{auth.ErrLastAdmin}},
		{code: CannotDeactivateSelf, errs: []error{auth.ErrSelf}},
		{code: PasswordChangeNeeded, errs: []error{auth.ErrPasswordChange}},
		{code: PasswordReused, errs: []error{auth.ErrPasswordReused}},

		// Linking.
		{code: LinkCustomerTaken, errs: []error{linking.ErrCustomerLinked}},
		{code: LinkUserTaken, errs: []error{linking.ErrUserLinked}},
		{code: LinkNotLinked, errs: []error{linking.ErrNotLinked}},
		{code: LinkReasonRequired, errs: []error{linking.ErrReasonRequired}},
		{code: LinkConsentChoice, errs: []error{linking.ErrConsentChoice}},
		{code: LinkNoNotifier, errs: []error{linking.ErrNoNotifier}},
		{code: LinkDestination, errs: []error{linking.ErrDestination}},
		{code: LinkNoBirthDate, errs: []error{linking.ErrNoBirthDate}},

		// Customers and import.
		{code: AlreadyLinked, errs: []error{customer.ErrAlreadyLinked}},
		{code: CustomerStale, errs: []error{customer.ErrStale}},
		{code: InvalidValue, errs: []error{customer.ErrInvalid, linking.ErrInvalidSetting, linking.ErrInvalidDelivery}},
		{code: ImportMapping, errs: []error{importer.ErrMapping}},
		{code: ImportEmpty, errs: []error{importer.ErrEmptyFile}},
		{code: ImportNothingValid, errs: []error{importer.ErrNothingValid}},
		{code: ImportUnreadable, errs: []error{importer.ErrUnreadable}},
		{code: ImportNoProfile, errs: []error{importer.ErrNoProfile}},
		{code: ImportRunning, errs: []error{importer.ErrRunning}},

		// Segments and campaigns.
		{code: CampaignOwnApproval, errs: []error{campaign.ErrOwnApproval}},
		{code: CampaignNotApproved, errs: []error{campaign.ErrNotApproved}},
		{code: CampaignStale, errs: []error{campaign.ErrStale}},
		{code: CampaignQuota, errs: []error{campaign.ErrQuota}},
		{code: CampaignOffline, errs: []error{campaign.ErrOffline}},
		{code: CampaignNoMailer, errs: []error{campaign.ErrNoMailer}},
		{code: CampaignNoSMS, errs: []error{campaign.ErrNoSMS}},
		{code: CampaignPast, errs: []error{campaign.ErrPast}},
		{code: CampaignPlaceholder, errs: []error{campaign.ErrPlaceholder}},
		{code: CampaignReturned, errs: []error{campaign.ErrReturned}},
		{code: CampaignComment, errs: []error{campaign.ErrComment}},
		{code: CampaignState, errs: []error{campaign.ErrState}},
		{code: SegmentInvalid, errs: []error{segment.ErrInvalid, segment.ErrUnsupported}},
		{code: CampaignInvalid, errs: []error{campaign.ErrInvalid}},
		{code: MailSettings, errs: []error{mail.ErrInvalid}},
		{code: SMSSettings, errs: []error{sms.ErrInvalid}},
		{code: TestSendFailed, errs: []error{engine.ErrTestSendFailed}},

		// Surveys.
		{code: SurveyInvalid, errs: []error{survey.ErrInvalid}},
		{code: SurveyHasAnswers, errs: []error{survey.ErrHasAnswers}},
		{code: SurveyNotOpen, errs: []error{survey.ErrNotOpen}},
		{code: SurveyAnswer, errs: []error{survey.ErrAnswer}},
		{code: SurveyBlocked, errs: []error{survey.ErrBlocked}},
		{code: NotStarted, errs: []error{survey.ErrNoSender, outbox.ErrOffline}},

		// Rich menus.
		{code: RichMenuInvalid, errs: []error{richmenu.ErrInvalid}},
		{code: RichMenuInUse, errs: []error{richmenu.ErrInUse}},
		{code: RichMenuNoImage, errs: []error{richmenu.ErrNoImage}},
		{code: RichMenuBusy, errs: []error{richmenu.ErrBusy}},
		{code: RichMenuOffline, errs: []error{richmenu.ErrNoLine}},
		{code: RouteInvalid, errs: []error{routes.ErrInvalid}},
		{code: RouteNoURL, errs: []error{routes.ErrNoURL}},
		{code: RouteBadPoster, errs: []error{routes.ErrBadPoster}},
		{code: RouteNoAccount, errs: []error{routes.ErrNoBasicID}},
		{code: FormInvalid, errs: []error{forms.ErrInvalid}},
		{code: FormHasAnswers, errs: []error{forms.ErrHasAnswers}},
		{code: FormArchived, errs: []error{forms.ErrArchived}},
		{code: FormNoRelay, errs: []error{forms.ErrNoRelay}},
		{code: FormNoLIFF, errs: []error{forms.ErrNoLIFF}},
		{code: FormNotSent, errs: []error{forms.ErrNotSent}},
		{code: FormNotPublished, errs: []error{forms.ErrNotPublished}},
		{code: FormNoCustomer, errs: []error{forms.ErrNoCustomer}},
		{code: FormNoPrefill, errs: []error{forms.ErrNoPrefill}},
		{code: FormBlocked, errs: []error{forms.ErrBlocked}},
		{code: FormNoSender, errs: []error{forms.ErrNoSender}},
		{code: FormRequestKey, errs: []error{forms.ErrRequestKey}},
		{code: FormLinkNotSent, errs: []error{forms.ErrLinkNotSent}},
		{code: FormRelayDown, errs: []error{forms.ErrRelayDown}},
		{code: BookingInvalid, errs: []error{booking.ErrInvalid}},
		{code: BookingFull, errs: []error{booking.ErrFull}},
		{code: BookingNoSlot, errs: []error{booking.ErrNoSlot}},
		{code: BookingCutoff, errs: []error{booking.ErrCutoff}},
		{code: BookingNotConfirmed, errs: []error{booking.ErrNotConfirmed}},
		{code: BookingNotStarted, errs: []error{booking.ErrNotStarted}},

		// Automations.
		{code: AutomationOwnApproval, errs: []error{automation.ErrOwnApproval}},
		{code: AutomationNotApproved, errs: []error{automation.ErrNotApproved}},
		{code: AutomationStale, errs: []error{automation.ErrStale}},
		{code: AutomationState, errs: []error{automation.ErrState}},
		{code: AutomationInvalid, errs: []error{automation.ErrInvalid}},

		// Drafts (unsent work kept across lock and restart).
		{code: NotFound, errs: []error{drafts.ErrNotFound}},
		{code: DraftTooLarge, errs: []error{drafts.ErrTooLarge}},
		{code: InvalidInput, errs: []error{drafts.ErrInvalid}},

		// Webhook relay.
		{code: RelayBadCode, errs: []error{relayclient.ErrBadCode}},
		{code: RelayEnrolled, errs: []error{engine.ErrRelayEnrolled}},
		{code: RelayNotEnrolled, errs: []error{engine.ErrRelayNotEnrolled}},
		{code: RelayNoChannel, errs: []error{engine.ErrRelayNoChannel}},
		{code: RelayBadURL, errs: []error{relayclient.ErrInsecureURL, relayclient.ErrBadURL}},
		{code: RelayWebhookURL, errs: []error{line.ErrBadWebhookEndpoint}},
		{code: RelayUnreachable, errs: []error{relayclient.ErrEnrollFailed}},

		// Branch seats (internal/seat, seat/client, seat/primary, seat/lan).
		{code: SeatCodeWrong, errs: []error{seat.ErrCodeWrong}},
		{code: SeatCodeUsed, errs: []error{seat.ErrCodeUsed}},
		{code: SeatCodeExpired, errs: []error{seat.ErrCodeExpired}},
		{code: SeatPairingPaused, errs: []error{seat.ErrPairingPaused}},
		{code: SeatBadAddress, errs: []error{seatclient.ErrBadAddress}},
		{code: SeatUnreachable, errs: []error{seatclient.ErrUnreachable}},
		{code: SeatNotPrimary, errs: []error{seatclient.ErrNotPrimary, seatclient.ErrFingerprintMismatch, seat.ErrWrongPrimary}},
		{code: SeatHasData, errs: []error{seatclient.ErrHasData}},
		{code: SeatRestart, errs: []error{seatclient.ErrRestartAsSeat}},
		{code: SeatBadName, errs: []error{seatprimary.ErrBadName}},
		{code: SeatNameTaken, errs: []error{seatprimary.ErrNameTaken}},
		{code: SeatNotFound, errs: []error{seatprimary.ErrNoSeat}},
		{code: SeatPortInvalid, errs: []error{seatlan.ErrInvalid}},
		{code: SeatNoLANAddress, errs: []error{seatlan.ErrNoLANAddress}},
		{code: SeatPortBusy, errs: []error{seatlan.ErrPortBusy}},
		{code: SeatFirewallNotNeeded, errs: []error{firewall.ErrNotNeeded}},
		{code: SeatFirewallCancelled, errs: []error{firewall.ErrCancelled}},
		{code: SeatFirewallFailed, errs: []error{firewall.ErrNotAdded}},

		// Updates (the About screen's update.* namespace).
		{code: UpdateNotConfigured, errs: []error{update.ErrNotConfigured}},
		{code: UpdateNoOffer, errs: []error{update.ErrNoOffer}},
		{code: UpdateBadPolicy, errs: []error{update.ErrBadPolicy}},
		{code: UpdateUnreachable, errs: []error{update.ErrUnreachable}},
		{code: UpdateDowngrade, errs: []error{update.ErrDowngrade}},
		{code: UpdateTooOld, errs: []error{update.ErrTooOld}},
		{code: UpdateNoRelease, errs: []error{update.ErrNoRelease}},
		{code: UpdateWrongPlatform, errs: []error{update.ErrWrongPlatform}},
		{code: UpdateRejected, errs: []error{update.ErrBadSignature, update.ErrHashMismatch, update.ErrOutsideLocation, update.ErrBadManifest}},

		// Branch seats: a seat whose primary is away or refuses it.
		{code: PrimaryAway, errs: []error{seatclient.ErrAway}},
		{code: SeatRefused, errs: []error{seatclient.ErrRevokedNow, seat.ErrRefused}},
		{code: SeatFileTooLarge, errs: []error{forward.ErrFileTooLarge}},
		{code: SeatFileGone, errs: []error{forward.ErrFileGone}},

		// Last: a cancelled import, and files that cannot be read.
		{code: ImportCancelled, errs: []error{context.Canceled}},
		{code: ImportFile, errs: []error{os.ErrNotExist, os.ErrPermission}},
	}
}
