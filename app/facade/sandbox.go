package facade

// SandboxService: the simulated LINE friends and their phones (sandbox mode only).

import (
	"encoding/json"
	"errors"
	"fmt"
	"tsunagu/internal/auth"
	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/msgcode"
	"tsunagu/internal/richmenu"
)

// SandboxCustomers lists the simulated customers.
func (a *App) SandboxCustomers() ([]SimCustomer, error) {
	if _, err := a.require(auth.PermSandbox); err != nil {
		return nil, err
	}
	sim, err := a.sim()
	if err != nil {
		return nil, err
	}
	out := []SimCustomer{}
	for _, c := range sim.Customers() {
		out = append(out, SimCustomer{UserID: c.UserID, DisplayName: c.DisplayName, Following: c.Following})
	}
	return out, nil
}

// SandboxChat is what a simulated customer sees in their LINE chat.
func (a *App) SandboxChat(userID string) ([]PhoneMessage, error) {
	if _, err := a.require(auth.PermSandbox); err != nil {
		return nil, err
	}
	sim, err := a.sim()
	if err != nil {
		return nil, err
	}
	out := []PhoneMessage{}
	for _, m := range sim.Chat(userID) {
		out = append(out, PhoneMessage{From: m.From, Type: m.Type, Text: m.Text, At: m.At.UnixMilli()})
	}
	return out, nil
}

// SandboxSend sends text as a simulated customer: the simulator posts a
// signed webhook that travels the same path as a real one.
func (a *App) SandboxSend(userID, text string) error {
	if _, err := a.require(auth.PermSandbox); err != nil {
		return err
	}
	sim, err := a.sim()
	if err != nil {
		return err
	}
	if _, err := sim.SendText(a.ctx, userID, text); err != nil {
		return a.userError(fmt.Errorf("sandbox send: %w", err))
	}
	a.emitPhone(userID)
	return nil
}

// SandboxFollow makes a simulated customer add (true) or block (false) the
// official account.
func (a *App) SandboxFollow(userID string, follow bool) error {
	if _, err := a.require(auth.PermSandbox); err != nil {
		return err
	}
	sim, err := a.sim()
	if err != nil {
		return err
	}
	if follow {
		err = sim.Follow(a.ctx, userID)
	} else {
		err = sim.Unfollow(a.ctx, userID)
	}
	if err != nil {
		return a.userError(fmt.Errorf("sandbox follow: %w", err))
	}
	a.emitPhone(userID)
	return nil
}

// SandboxSendSticker sends a sticker as a simulated customer.
func (a *App) SandboxSendSticker(userID, packageID, stickerID string) error {
	if _, err := a.require(auth.PermSandbox); err != nil {
		return err
	}
	sim, err := a.sim()
	if err != nil {
		return err
	}
	if _, err := sim.SendSticker(a.ctx, userID, packageID, stickerID); err != nil {
		return a.userError(fmt.Errorf("sandbox sticker: %w", err))
	}
	a.emitPhone(userID)
	return nil
}

// SandboxSendImage sends a small generated photo as a simulated customer;
// the app downloads it through the content API like a real one.
func (a *App) SandboxSendImage(userID string) error {
	if _, err := a.require(auth.PermSandbox); err != nil {
		return err
	}
	sim, err := a.sim()
	if err != nil {
		return err
	}
	if _, _, err := sim.SendImage(a.ctx, userID, samplePhoto(), "image/png"); err != nil {
		return a.userError(fmt.Errorf("sandbox image: %w", err))
	}
	a.emitPhone(userID)
	return nil
}

// SandboxPostback taps a postback button as a simulated customer: label is
// what the phone shows, data what the webhook carries.
func (a *App) SandboxPostback(userID, label, data string) error {
	if _, err := a.require(auth.PermSandbox); err != nil {
		return err
	}
	sim, err := a.sim()
	if err != nil {
		return err
	}
	if _, err := sim.Postback(a.ctx, userID, label, data); err != nil {
		return a.userError(fmt.Errorf("sandbox postback: %w", err))
	}
	a.emitPhone(userID)
	return nil
}

// SandboxSetOutage runs the outage drill in sandbox mode: the simulated
// LINE API stops answering ("refuse", "reset" or "blackhole"), answers
// after slowMs, or is back ("" and 0). Webhooks keep arriving.
func (a *App) SandboxSetOutage(mode string, slowMs int) error {
	if _, err := a.require(auth.PermSandbox); err != nil {
		return err
	}
	sim, err := a.sim()
	if err != nil {
		return err
	}
	if slowMs < 0 || slowMs > 120_000 {
		return msgcode.New(msgcode.InvalidInput)
	}
	if err := sim.SetOutage(mode); err != nil {
		if errors.Is(err, linesim.ErrBadOutage) {
			return msgcode.New(msgcode.InvalidInput)
		}
		return a.userError(fmt.Errorf("sandbox outage: %w", err))
	}
	sim.SetSlow(msDuration(slowMs))
	return nil
}

// SandboxExpireContent makes the simulated LINE answer as it does once it
// has deleted what customers sent (all content, or none again).
func (a *App) SandboxExpireContent(all bool) error {
	if _, err := a.require(auth.PermSandbox); err != nil {
		return err
	}
	sim, err := a.sim()
	if err != nil {
		return err
	}
	sim.SetContentExpired(all)
	return nil
}

// SandboxPhoneActions lists the buttons a simulated customer's phone shows
// (quick replies under the latest message, Flex buttons).
func (a *App) SandboxPhoneActions(userID string) ([]linesim.PhoneAction, error) {
	if _, err := a.require(auth.PermSandbox); err != nil {
		return nil, err
	}
	sim, err := a.sim()
	if err != nil {
		return nil, err
	}
	out := sim.Actions(userID)
	if out == nil {
		out = []linesim.PhoneAction{}
	}
	return out, nil
}

// SandboxTap taps one of those buttons as the simulated customer; value is
// the picked date (or time) of a datetime picker.
func (a *App) SandboxTap(userID string, delivery, index int, value string) error {
	if _, err := a.require(auth.PermSandbox); err != nil {
		return err
	}
	sim, err := a.sim()
	if err != nil {
		return err
	}
	if _, err := sim.Tap(a.context(), userID, delivery, index, value); err != nil {
		return a.userError(fmt.Errorf("sandbox tap: %w", err))
	}
	a.emitPhone(userID)
	return nil
}

// SandboxRichMenu returns the rich menu the simulator shows a customer
// (their per-user menu, else the default).
func (a *App) SandboxRichMenu(userID string) (PhoneRichMenu, error) {
	if _, err := a.require(auth.PermSandbox); err != nil {
		return PhoneRichMenu{}, err
	}
	sim, err := a.sim()
	if err != nil {
		return PhoneRichMenu{}, err
	}
	m, ok := sim.ShownRichMenu(userID)
	if !ok {
		return PhoneRichMenu{Areas: []richmenu.Area{}}, nil
	}
	out := PhoneRichMenu{Shown: true, Width: m.Size.Width, Height: m.Size.Height, ChatBarText: m.ChatBarText,
		Selected: m.Selected, Image: dataURL(m.ImageType, m.Image), Areas: []richmenu.Area{}}
	for _, ar := range m.Areas {
		var act line.RichMenuAction // LINE's action JSON has the same fields
		if err := json.Unmarshal(ar.Action, &act); err != nil {
			continue
		}
		out.Areas = append(out.Areas, richmenu.Area{X: ar.Bounds.X, Y: ar.Bounds.Y, Width: ar.Bounds.Width, Height: ar.Bounds.Height, Action: act})
	}
	return out, nil
}
