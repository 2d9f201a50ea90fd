package facade

// SandboxService: the simulated LINE friends and their phones (sandbox mode
// only: engine.ErrNotSandbox otherwise).

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
	"tsunagu/internal/line"
	"tsunagu/internal/linesim"
	"tsunagu/internal/richmenu"
)

// SandboxCustomers lists the simulated customers.
func (s *SandboxService) SandboxCustomers() ([]SimCustomer, error) {
	return onSim(s.a, func(sim *linesim.Server) []SimCustomer {
		out := []SimCustomer{}
		for _, c := range sim.Customers() {
			out = append(out, SimCustomer{UserID: c.UserID, DisplayName: c.DisplayName, Following: c.Following})
		}
		return out
	})
}

// SandboxChat is what a simulated customer sees in their LINE chat.
func (s *SandboxService) SandboxChat(userID string) ([]PhoneMessage, error) {
	return onSim(s.a, func(sim *linesim.Server) []PhoneMessage {
		out := []PhoneMessage{}
		for _, m := range sim.Chat(userID) {
			out = append(out, PhoneMessage{From: m.From, Type: m.Type, Text: m.Text, At: m.At.UnixMilli()})
		}
		return out
	})
}

// SandboxSend sends text as a simulated customer: the simulator posts a
// signed webhook that travels the same path as a real one.
func (s *SandboxService) SandboxSend(userID, text string) error {
	return s.act(userID, "send", func(ctx context.Context, sim *linesim.Server) error {
		_, err := sim.SendText(ctx, userID, text)
		return err
	})
}

// SandboxFollow makes a simulated customer add (true) or block (false) the
// official account.
func (s *SandboxService) SandboxFollow(userID string, follow bool) error {
	return s.act(userID, "follow", func(ctx context.Context, sim *linesim.Server) error {
		if follow {
			return sim.Follow(ctx, userID)
		}
		return sim.Unfollow(ctx, userID)
	})
}

// SandboxSendSticker sends a sticker as a simulated customer.
func (s *SandboxService) SandboxSendSticker(userID, packageID, stickerID string) error {
	return s.act(userID, "sticker", func(ctx context.Context, sim *linesim.Server) error {
		_, err := sim.SendSticker(ctx, userID, packageID, stickerID)
		return err
	})
}

// SandboxSendImage sends a small generated photo as a simulated customer;
// the app downloads it through the content API like a real one.
func (s *SandboxService) SandboxSendImage(userID string) error {
	return s.act(userID, "image", func(ctx context.Context, sim *linesim.Server) error {
		_, _, err := sim.SendImage(ctx, userID, linesim.SamplePhoto(), "image/png")
		return err
	})
}

// SandboxPostback taps a postback button as a simulated customer: label is
// what the phone shows, data what the webhook carries.
func (s *SandboxService) SandboxPostback(userID, label, data string) error {
	return s.act(userID, "postback", func(ctx context.Context, sim *linesim.Server) error {
		_, err := sim.Postback(ctx, userID, label, data)
		return err
	})
}

// SandboxTap taps one of the phone's buttons (SandboxPhoneActions) as the
// simulated customer; value is the picked date (or time) of a datetime
// picker.
func (s *SandboxService) SandboxTap(userID string, delivery, index int, value string) error {
	return s.act(userID, "tap", func(ctx context.Context, sim *linesim.Server) error {
		_, err := sim.Tap(ctx, userID, delivery, index, value)
		return err
	})
}

// SandboxSetOutage runs the outage drill in sandbox mode: the simulated
// LINE API stops answering ("refuse", "reset" or "blackhole"), answers
// after slowMs, or is back ("" and 0). Webhooks keep arriving.
func (s *SandboxService) SandboxSetOutage(mode string, slowMs int) error {
	_, err := onSimErr(s.a, func(sim *linesim.Server) (struct{}, error) {
		return struct{}{}, sim.Drill(mode, time.Duration(slowMs)*time.Millisecond)
	})
	return err
}

// SandboxSetQuota gives the simulated channel a monthly message limit
// (0: none) and this month's use, to try the dashboard's quota forecast.
func (s *SandboxService) SandboxSetQuota(limit, used int64) error {
	if limit < 0 || used < 0 {
		return fmt.Errorf("sandbox quota: limit %d and used %d must not be negative", limit, used)
	}
	_, err := onSim(s.a, func(sim *linesim.Server) struct{} { sim.SetMonthlyQuota(limit, used); return struct{}{} })
	return err
}

// SandboxExpireContent makes the simulated LINE answer as it does once it
// has deleted what customers sent (all content, or none again).
func (s *SandboxService) SandboxExpireContent(all bool) error {
	_, err := onSim(s.a, func(sim *linesim.Server) struct{} { sim.SetContentExpired(all); return struct{}{} })
	return err
}

// SandboxPhoneActions lists the buttons a simulated customer's phone shows
// (quick replies under the latest message, Flex buttons).
func (s *SandboxService) SandboxPhoneActions(userID string) ([]linesim.PhoneAction, error) {
	return onSim(s.a, func(sim *linesim.Server) []linesim.PhoneAction {
		if out := sim.Actions(userID); out != nil {
			return out
		}
		return []linesim.PhoneAction{}
	})
}

// SandboxRichMenu returns the rich menu the simulator shows a customer
// (their per-user menu, else the default).
func (s *SandboxService) SandboxRichMenu(userID string) (PhoneRichMenu, error) {
	return onSim(s.a, func(sim *linesim.Server) PhoneRichMenu {
		m, ok := sim.ShownRichMenu(userID)
		if !ok {
			return PhoneRichMenu{Areas: []richmenu.Area{}}
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
		return out
	})
}

// act does what a simulated customer does on their phone, then tells the
// phone panel to refresh.
func (s *SandboxService) act(userID, what string, fn func(ctx context.Context, sim *linesim.Server) error) error {
	return run(s.a, auth.PermSandbox, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) error {
		sim, err := eng.Simulator()
		if err != nil {
			return err
		}
		if err := fn(ctx, sim); err != nil {
			return fmt.Errorf("sandbox %s: %w", what, err)
		}
		s.a.emitPhone(userID)
		return nil
	})
}

// onSim reads the simulator: call with the sandbox permission, in sandbox
// mode only.
func onSim[T any](a *Client, fn func(sim *linesim.Server) T) (T, error) {
	return onSimErr(a, func(sim *linesim.Server) (T, error) { return fn(sim), nil })
}

func onSimErr[T any](a *Client, fn func(sim *linesim.Server) (T, error)) (T, error) {
	return call(a, auth.PermSandbox, func(_ context.Context, _ auth.Staff, eng *engine.Engine) (T, error) {
		sim, err := eng.Simulator()
		if err != nil {
			var zero T
			return zero, err
		}
		return fn(sim)
	})
}
