// Package seat is what a branch's primary (親機) and its seats (子機) share:
// their identities (an Ed25519 key whose private half lives only in the OS
// keychain, presented as a self-signed TLS certificate made afresh at each
// start), the fingerprints people compare, the one-time pairing codes, the
// TLS 1.3 settings of both ends and the framing of the connection between
// them. The primary's side (the seat registry, the listener) is in
// seat/primary; a seat's side (pairing, calls, events) in seat/client,
// which never links the customer database.
//
// Pinning replaces certificate authorities: each end checks the SHA-256 of
// the other's public key (SubjectPublicKeyInfo) against what it pinned, and
// TLS proves the other end holds the matching private key. Certificate
// names and dates mean nothing here, so the certificate need not be kept.
package seat

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Fingerprint is the SHA-256 of a public key's SubjectPublicKeyInfo (DER).
// Both ends pin all 256 bits; people compare its Short form.
type Fingerprint [sha256.Size]byte

// FingerprintOf is the fingerprint of a certificate's public key.
func FingerprintOf(c *x509.Certificate) Fingerprint { return sha256.Sum256(c.RawSubjectPublicKeyInfo) }

// String is the full fingerprint in hex (what is stored and pinned).
func (f Fingerprint) String() string { return hex.EncodeToString(f[:]) }

// Short is the fingerprint for people to compare aloud: 16 digits in 4
// groups, e.g. "0412-7735-9018-2264". Digits, because they are read the
// same in Japanese and English and have no look-alikes (O/0, I/1). 16
// digits are 53 bits: an attacker would need about 2^53 key generations
// to make a key that shows the same digits, which is far beyond what fits
// into the 10 minutes a code is valid.
func (f Fingerprint) Short() string {
	n := binary.BigEndian.Uint64(f[:8]) % 1e16
	s := fmt.Sprintf("%016d", n)
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}

// Equal compares in constant time.
func (f Fingerprint) Equal(g Fingerprint) bool { return subtle.ConstantTimeCompare(f[:], g[:]) == 1 }

// ParseFingerprint reads a full fingerprint (64 hex digits).
func ParseFingerprint(s string) (Fingerprint, error) {
	var f Fingerprint
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != len(f) {
		return f, ErrBadFingerprint
	}
	copy(f[:], b)
	return f, nil
}

// NormalizeShort accepts a short fingerprint as typed (with or without
// dashes or spaces, full-width digits) and returns it as Short prints it.
func NormalizeShort(s string) (string, error) {
	var digits []byte
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r >= '０' && r <= '９': // typed with a Japanese IME
			digits = append(digits, byte('0'+r-'０'))
		case r == '-' || r == ' ' || r == '　' || r == 'ー' || r == '－':
		default:
			return "", ErrBadFingerprint
		}
	}
	if len(digits) != 16 {
		return "", ErrBadFingerprint
	}
	d := string(digits)
	return d[0:4] + "-" + d[4:8] + "-" + d[8:12] + "-" + d[12:16], nil
}

// ErrBadFingerprint: not a fingerprint as Short or String print them.
var ErrBadFingerprint = errors.New("not a fingerprint: give the 16 digits the primary shows (e.g. 0412-7735-9018-2264)")

// Identity is one end's key and the certificate it presents.
type Identity struct {
	Cert        tls.Certificate
	Fingerprint Fingerprint
}

// NewIdentity makes the self-signed certificate for key. The certificate
// is regenerated at every start (only the key is kept, in the keychain):
// the peer pins the key, not the certificate.
func NewIdentity(key ed25519.PrivateKey, commonName string, now time.Time) (Identity, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return Identity{}, fmt.Errorf("certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    now.Add(-time.Hour),
		// Long-lived: validity is not checked (pins are), and a certificate
		// that expired on a PC whose clock is wrong must not stop a branch.
		NotAfter:    now.AddDate(20, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:    []string{ServerName},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return Identity{}, fmt.Errorf("create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return Identity{}, fmt.Errorf("parse own certificate: %w", err)
	}
	return Identity{
		Cert:        tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		Fingerprint: FingerprintOf(leaf),
	}, nil
}
