package facade

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
	"tsunagu/internal/linesim"
	"tsunagu/internal/routes"
)

// Inflow routes (流入経路, issue 20). Routes are managed with the campaigns
// and automations (PermDrafts); saving a QR code, a poster or the report to
// a file is an export (PermExport), audited by the routes service.

// routeCall is call with the engine's route service.
func routeCall[T any](a *Client, p auth.Permission, do func(ctx context.Context, st auth.Staff, svc *routes.Service) (T, error)) (T, error) {
	return featureCall(a, p, (*engine.Engine).Routes, "inflow routes", do)
}

// Routes lists the routes, newest first (archived ones too if asked).
func (s *RoutesService) Routes(archived bool) ([]routes.Route, error) {
	return routeCall(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, svc *routes.Service) ([]routes.Route, error) {
		return svc.List(ctx, archived)
	})
}

// CreateRoute adds a route; audited.
func (s *RoutesService) CreateRoute(d routes.Draft) (routes.Route, error) {
	return routeCall(s.a, auth.PermDrafts, func(ctx context.Context, st auth.Staff, svc *routes.Service) (routes.Route, error) {
		return svc.Create(ctx, st.Actor(), d)
	})
}

// UpdateRoute changes a route's settings (its QR code stays); audited.
func (s *RoutesService) UpdateRoute(id int64, d routes.Draft) (routes.Route, error) {
	return routeCall(s.a, auth.PermDrafts, func(ctx context.Context, st auth.Staff, svc *routes.Service) (routes.Route, error) {
		return svc.Update(ctx, st.Actor(), id, d)
	})
}

// ArchiveRoute takes a route off the list; audited.
func (s *RoutesService) ArchiveRoute(id int64) error {
	_, err := routeCall(s.a, auth.PermDrafts, func(ctx context.Context, st auth.Staff, svc *routes.Service) (struct{}, error) {
		return struct{}{}, svc.Archive(ctx, st.Actor(), id)
	})
	return err
}

// RouteAccount is the official account's name and basic ID (the poster's
// heading and the add-friend URL), from LINE.
func (s *RoutesService) RouteAccount() (routes.Account, error) {
	return routeCall(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, svc *routes.Service) (routes.Account, error) {
		return svc.AccountInfo(ctx)
	})
}

// RouteQRCode is the route's QR code as a data: URL, for the screen.
func (s *RoutesService) RouteQRCode(id int64) (string, error) {
	return routeCall(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, svc *routes.Service) (string, error) {
		return svc.QRDataURL(ctx, id)
	})
}

// SaveRouteQRCode saves the QR code as a PNG where the person chooses;
// audited as an export.
func (s *RoutesService) SaveRouteQRCode(id int64) (ExportResult, error) {
	return routeCall(s.a, auth.PermExport, func(ctx context.Context, st auth.Staff, svc *routes.Service) (ExportResult, error) {
		return s.a.exportFile(ctx, "route-qr-"+time.Now().Format("20060102")+".png", func(w io.Writer) (int, error) {
			return svc.SaveQRCode(ctx, st.Actor(), id, w)
		})
	})
}

// SaveRoutePoster saves the A4 poster the window drew (base64 PNG, 2480 ×
// 3508) as "png" or "pdf" where the person chooses; audited as an export.
func (s *RoutesService) SaveRoutePoster(id int64, format string, poster string) (ExportResult, error) {
	return routeCall(s.a, auth.PermExport, func(ctx context.Context, st auth.Staff, svc *routes.Service) (ExportResult, error) {
		if format != "png" && format != "pdf" {
			return ExportResult{}, routes.ErrBadPoster
		}
		return s.a.exportFile(ctx, "route-poster-"+time.Now().Format("20060102")+"."+format, func(w io.Writer) (int, error) {
			return svc.SavePoster(ctx, st.Actor(), id, format, poster, w)
		})
	})
}

// RouteReport is friends per route per day, blocks and linked customers
// per route, over the last days days.
func (s *RoutesService) RouteReport(days int) (routes.Report, error) {
	return routeCall(s.a, auth.PermDrafts, func(ctx context.Context, _ auth.Staff, svc *routes.Service) (routes.Report, error) {
		return svc.Report(ctx, days)
	})
}

// ExportRouteReport saves the report as CSV; audited.
func (s *RoutesService) ExportRouteReport(days int) (ExportResult, error) {
	return routeCall(s.a, auth.PermExport, func(ctx context.Context, st auth.Staff, svc *routes.Service) (ExportResult, error) {
		return s.a.exportFile(ctx, "routes-"+time.Now().Format("20060102")+".csv", func(w io.Writer) (int, error) {
			return svc.ExportCSV(ctx, st.Actor(), days, w)
		})
	})
}

// SandboxNewFriend has a new simulated person, never a friend before, add
// the official account (as someone who just scanned a route's QR code on
// their phone would), so that the sandbox can show a route's attribution.
// The person lives until the sandbox restarts.
func (s *SandboxService) SandboxNewFriend(displayName string) (SimCustomer, error) {
	return call(s.a, auth.PermSandbox, func(ctx context.Context, _ auth.Staff, eng *engine.Engine) (SimCustomer, error) {
		sim, err := eng.Simulator()
		if err != nil {
			return SimCustomer{}, err
		}
		name := strings.TrimSpace(displayName)
		if name == "" || utf8.RuneCountInString(name) > 20 {
			name = "新しいお客さま"
		}
		c := linesim.Customer{UserID: linesim.NewUserID(), DisplayName: name, Language: "ja"}
		sim.AddCustomer(c)
		if err := sim.Follow(ctx, c.UserID); err != nil {
			return SimCustomer{}, fmt.Errorf("sandbox new friend: %w", err)
		}
		s.a.emitPhone(c.UserID)
		return SimCustomer{UserID: c.UserID, DisplayName: name, Following: true}, nil
	})
}
