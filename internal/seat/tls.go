package seat

import (
	"crypto/tls"
	"errors"
	"fmt"
)

// The application protocols (ALPN) a connection declares in its
// handshake: pairing is the only thing an unknown key may do.
const (
	ProtoSeat = "tsunagu-seat/1" // a paired seat: calls and events
	ProtoPair = "tsunagu-pair/1" // a new seat presenting its code
)

// ServerName is the name in the primary's certificate and the seats' SNI.
// It is not checked (the key is pinned), but keeps the handshake ordinary.
const ServerName = "tsunagu-primary"

var (
	// ErrWrongPrimary: the primary's key is not the one pinned (another
	// machine, or someone in between).
	ErrWrongPrimary = errors.New("the primary's certificate is not the one this seat was paired with: another computer answered at that address, or someone is in between")
	// ErrRefused: the primary did not accept this seat's key (never paired,
	// or revoked).
	ErrRefused = errors.New("the primary refused this seat: it was revoked or never paired; pair it again with a new seat code")
)

// ServerConfig is the primary's TLS: 1.3 only, a client certificate
// required (which key may do what is checked by verify, given the
// negotiated protocol and the client's key fingerprint).
func ServerConfig(id Identity, verify func(proto string, client Fingerprint) error) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{id.Cert},
		// Any certificate: there is no CA, the key is checked against the
		// registry in VerifyConnection.
		ClientAuth: tls.RequireAnyClientCert,
		NextProtos: []string{ProtoSeat, ProtoPair},
		// Every connection is a full handshake, so every one meets the
		// registry's current answer (a resumed session would carry the
		// client's certificate from before a revocation).
		SessionTicketsDisabled: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no client certificate")
			}
			if cs.NegotiatedProtocol != ProtoSeat && cs.NegotiatedProtocol != ProtoPair {
				return fmt.Errorf("unknown protocol %q", cs.NegotiatedProtocol)
			}
			return verify(cs.NegotiatedProtocol, FingerprintOf(cs.PeerCertificates[0]))
		},
	}
}

// ClientConfig is a seat's TLS: 1.3 only, its own key as client
// certificate, and the primary's key checked by check (a pin, or a
// recorder for a pairing the person confirms).
func ClientConfig(id Identity, proto string, check func(primary Fingerprint) error) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{id.Cert},
		ServerName:   ServerName,
		NextProtos:   []string{proto},
		// No CA signs a branch's primary: the chain check is replaced by the
		// pin in VerifyConnection, which runs on every handshake (also
		// resumed ones, where VerifyPeerCertificate would not).
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return ErrWrongPrimary
			}
			if cs.NegotiatedProtocol != proto {
				return fmt.Errorf("the primary does not speak %s", proto)
			}
			return check(FingerprintOf(cs.PeerCertificates[0]))
		},
	}
}

// Pin is the check of a paired seat: exactly the pinned key.
func Pin(want Fingerprint) func(Fingerprint) error {
	return func(got Fingerprint) error {
		if !got.Equal(want) {
			return ErrWrongPrimary
		}
		return nil
	}
}
