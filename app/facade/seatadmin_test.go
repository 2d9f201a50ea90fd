package facade

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"tsunagu/internal/datadir"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/msgcode"
	"tsunagu/internal/seat/client"
	"tsunagu/internal/secrets"
)

func wrongField(t *testing.T, err error) (code, field, fieldCode string) {
	t.Helper()
	var ue *msgcode.Error
	if !errors.As(err, &ue) {
		t.Fatalf("not a message code: %v", err)
	}
	if len(ue.Fields) != 1 {
		t.Fatalf("want one wrong field, got %+v (%s)", ue.Fields, ue.Code)
	}
	return ue.Code, ue.Fields[0].Field, ue.Fields[0].Code
}

// The primary's administrator issues a code; a fresh installation finds
// the primary's fingerprint at the address, is told about a wrong code on
// the code field, pairs with the right one and becomes a seat (seat.json,
// no database); the seat is listed, and revoked.
func TestSeatAdminAndFirstRunPairing(t *testing.T) {
	prim := startApp(t, nil)
	firstAdmin(t, prim)
	admin := &SeatAdminService{prim}

	// Not an admin's port 7443 on a shared machine: a free one.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if _, err := admin.SetSeatPort(80); err == nil {
		t.Fatal("port 80 accepted")
	} else if code, field, fc := wrongField(t, err); code != msgcode.SeatPortInvalid || field != "port" || fc != fielderr.Between {
		t.Fatalf("port 80: %s %s %s", code, field, fc)
	}
	ov, err := admin.SetSeatPort(port)
	if err != nil || ov.Enabled || ov.Port != port || len(ov.Seats) != 0 {
		t.Fatalf("before the first code the port is off: %+v %v", ov, err)
	}
	if _, err := admin.IssueSeatCode("  "); err == nil {
		t.Fatal("empty seat name accepted")
	} else if code, field, fc := wrongField(t, err); code != msgcode.SeatBadName || field != "name" || fc != fielderr.Required {
		t.Fatalf("empty name: %s %s %s", code, field, fc)
	}
	if ov, _ = admin.SeatAdmin(); ov.Enabled {
		t.Fatal("a refused name opened the seat port")
	}
	offer, err := admin.IssueSeatCode("窓口2")
	if err != nil {
		t.Fatal(err)
	}
	if len(offer.Addrs) != 1 || offer.Addrs[0] != net.JoinHostPort("127.0.0.1", itoa(port)) || offer.Fingerprint == "" || len(offer.QR) < 100 {
		t.Fatalf("offer %+v", offer)
	}
	if ov, _ = admin.SeatAdmin(); !ov.Enabled || ov.Fingerprint != offer.Fingerprint {
		t.Fatalf("after the first code: %+v", ov)
	}
	if _, err := admin.IssueSeatCode("窓口2"); err != nil {
		t.Fatalf("a second code for a name not yet paired: %v", err)
	}

	fresh := startApp(t, nil)
	pair := &SeatPairService{fresh}
	if ps, err := pair.FindPrimaries(); err != nil || len(ps) != 0 {
		t.Fatalf("discovery is off in tests: %v %v", ps, err)
	}
	if _, err := pair.ProbePrimary("192.168.1.20:99999", offer.Code); err == nil {
		t.Fatal("bad port accepted")
	} else if _, field, fc := wrongField(t, err); field != "addr" || fc != fielderr.Format {
		t.Fatalf("bad address: %s %s", field, fc)
	}
	probe, err := pair.ProbePrimary(offer.Addrs[0], "7kq2mxh4pb") // form only: any well-formed code
	if err != nil || probe.Fingerprint != offer.Fingerprint || probe.Addr != offer.Addrs[0] {
		t.Fatalf("probe %+v %v; want %s", probe, err, offer.Fingerprint)
	}
	_, err = pair.PairWithPrimary(probe.Addr, "00000-00000", probe.Fingerprint)
	if code, field, fc := wrongField(t, err); code != msgcode.SeatCodeWrong || field != "code" || fc != fielderr.Refused {
		t.Fatalf("wrong code: %s %s %s", code, field, fc)
	}
	done, err := pair.PairWithPrimary(probe.Addr, offer.Code, probe.Fingerprint)
	if err != nil || done.Name != "窓口2" || done.PrimaryFingerprint != offer.Fingerprint || done.SeatFingerprint == "" {
		t.Fatalf("pair %+v %v", done, err)
	}
	dir := fresh.opts.DataDir
	if _, err := os.Stat(filepath.Join(dir, client.PairingFile)); err != nil {
		t.Errorf("no seat.json: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tsunagu.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the seat kept a database: %v", err)
	}
	if st := fresh.status(); st.Error != msgcode.SeatRestart {
		t.Errorf("status after pairing: %+v", st)
	}

	// An installation with staff accounts cannot become a seat.
	if _, err := (&SeatPairService{prim}).ProbePrimary(offer.Addrs[0], offer.Code); msgcode.For(err).Code != msgcode.SeatHasData {
		t.Errorf("the primary itself: %v", err)
	}

	if _, err := admin.IssueSeatCode("窓口2"); err == nil {
		t.Fatal("a code for the name of a paired seat")
	} else if code, field, fc := wrongField(t, err); code != msgcode.SeatNameTaken || field != "name" || fc != fielderr.Taken {
		t.Fatalf("taken name: %s %s %s", code, field, fc)
	}
	ov, err = admin.SeatAdmin()
	if err != nil || len(ov.Seats) != 1 || ov.Seats[0].Name != "窓口2" || ov.Seats[0].Fingerprint != done.SeatFingerprint {
		t.Fatalf("list %+v %v", ov, err)
	}
	// The seat connects with its pairing: online now, and revoking cuts it off at once.
	sdir, err := datadir.Existing(dir)
	if err != nil {
		t.Fatal(err)
	}
	iid, err := sdir.ReadInstallID()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := client.Open(ctx, sdir, secrets.New(fresh.opts.Keyring, iid))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if ov, _ = admin.SeatAdmin(); len(ov.Seats) == 1 && ov.Seats[0].Online && ov.Seats[0].LastContactAt > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the connected seat is not shown online: %+v", ov.Seats)
		}
	}
	if err := admin.RevokeSeat("窓口2"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-conn.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the revoked seat is still connected")
	}
	if ov, _ = admin.SeatAdmin(); len(ov.Seats) != 0 {
		t.Fatalf("revoked seat still listed: %+v", ov.Seats)
	}
	if err := admin.RevokeSeat("窓口2"); msgcode.For(err).Code != msgcode.SeatNotFound {
		t.Errorf("revoke twice: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
