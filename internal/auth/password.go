package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"tsunagu/internal/fielderr"
)

// Params are argon2id cost parameters.
type Params struct {
	Time    uint32 // passes over memory
	Memory  uint32 // KiB
	Threads uint8
	KeyLen  uint32
	SaltLen uint32
}

// DefaultParams suit a 2-core office PC with 4–8 GB of RAM: 64 MiB, 3
// passes, 2 lanes take roughly 0.2–0.4 s per sign-in there (RFC 9106's
// second recommended option uses 64 MiB, 3 passes; OWASP's minimum is 19 MiB,
// 2 passes). The memory makes each guess expensive on GPUs; the time stays
// short enough for a clerk signing in many times a day. Stored hashes carry
// their parameters, so raising these later re-hashes at the next sign-in.
var DefaultParams = Params{Time: 3, Memory: 64 * 1024, Threads: 2, KeyLen: 32, SaltLen: 16}

// MinPasswordLen is the shortest accepted password, in characters. With
// lockout after a few failures, length matters more than character classes
// (NIST SP 800-63B).
const MinPasswordLen = 10

// MaxPasswordLen bounds the work a single sign-in can cause.
const MaxPasswordLen = 256

var errMalformedHash = errors.New("stored password hash is malformed")

// HashPassword returns a PHC-format argon2id hash of password:
// $argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>.
func HashPassword(password string, p Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("generate salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the stored hash, comparing
// in constant time, and the parameters the hash was made with.
func CheckPassword(password, stored string) (bool, Params, error) {
	parts := strings.Split(stored, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, Params{}, errMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, Params{}, errMalformedHash
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || p.Time == 0 || p.Threads == 0 {
		return false, Params{}, errMalformedHash
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return false, Params{}, errMalformedHash
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, Params{}, errMalformedHash
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(want))
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, want) == 1, p, nil
}

// checkPasswordPolicy refuses passwords that are too short or too long;
// field is where the form sent it, so that the screen marks that input.
func checkPasswordPolicy(field, password string) error {
	var l fielderr.List
	addPasswordFault(&l, field, password)
	return l.Err(ErrWeakPassword)
}

// addPasswordFault adds what is wrong with password to l, if anything.
func addPasswordFault(l *fielderr.List, field, password string) {
	switch {
	case strings.TrimSpace(password) == "":
		l.Add(field, fielderr.Required)
	case utf8.RuneCountInString(password) < MinPasswordLen:
		l.AddMin(field, MinPasswordLen)
	case len(password) > MaxPasswordLen:
		// The limit is in bytes (the hashing work); named as characters
		// it holds for any text, at most 4 bytes each.
		l.AddMax(field, fielderr.TooLong, MaxPasswordLen/4)
	}
}
