// Package recovery keeps the database key recoverable without the OS
// keychain: at setup an administrator gets a printable recovery code, and
// the DB key, wrapped (encrypted) with a key derived from that code, is
// stored in the data folder (and next to every backup).
//
// The code has 160 random bits, so the wrapped key can sit in plain sight:
// argon2id (64 MiB, 3 passes) stretches it further, and XChaCha20-Poly1305
// detects a wrong code or a tampered file. Without the keychain item and
// without the code, the database cannot be opened: that is the point.
package recovery

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"tsunagu/internal/atomicfile"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// FileName is the wrapped key's file in the data folder.
const FileName = "recovery.json"

// ErrBadCode means the code does not unwrap the key (mistyped, or the file
// belongs to another key).
var ErrBadCode = errors.New("the recovery code does not match")

// ErrNoFile means there is no wrapped key to recover from.
var ErrNoFile = errors.New("no recovery file (recovery.json) found")

// KDF parameters: the production argon2id cost (see docs/security.md).
// Tests may lower them through Options.
type KDF struct {
	Time    uint32 `json:"t"`
	Memory  uint32 `json:"m"` // KiB
	Threads uint8  `json:"p"`
}

// DefaultKDF is used for new codes.
var DefaultKDF = KDF{Time: 3, Memory: 64 * 1024, Threads: 2}

// File is the stored, wrapped key.
type File struct {
	Version   int    `json:"version"`
	KeyID     string `json:"keyId"` // fingerprint of the wrapped key (not secret)
	KDF       KDF    `json:"kdf"`
	Salt      string `json:"salt"`    // hex
	Nonce     string `json:"nonce"`   // hex
	Wrapped   string `json:"wrapped"` // hex: XChaCha20-Poly1305(key)
	CreatedAt int64  `json:"createdAt"`
}

const aad = "tsunagu recovery v1: database key"

// codeEncoding is Crockford's base32: no I, L, O or U, so a code read back
// from paper is unambiguous (O is read as 0, I and L as 1).
var codeEncoding = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// codeBytes is 160 bits: 32 characters in 8 groups of 4.
const codeBytes = 20

// NewCode returns a fresh recovery code, e.g. "ABCD-EFGH-…" (8 groups).
func NewCode() (string, error) {
	b := make([]byte, codeBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate recovery code: %w", err)
	}
	s := codeEncoding.EncodeToString(b)
	var groups []string
	for i := 0; i < len(s); i += 4 {
		groups = append(groups, s[i:min(i+4, len(s))])
	}
	return strings.Join(groups, "-"), nil
}

// normalize accepts the code as typed: any case, with or without spaces
// and dashes, O for 0 and I or L for 1.
func normalize(code string) ([]byte, error) {
	s := strings.Map(func(r rune) rune {
		switch r {
		case '-', ' ', '\t', '\n', '\r':
			return -1
		case 'O':
			return '0'
		case 'I', 'L':
			return '1'
		}
		return r
	}, strings.ToUpper(code))
	b, err := codeEncoding.DecodeString(s)
	if err != nil || len(b) != codeBytes {
		return nil, ErrBadCode
	}
	return b, nil
}

// KeyID is a short, non-secret fingerprint of a database key, so that a
// backup and a recovery file can say which key they need.
func KeyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("tsunagu key id"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// Wrap encrypts key under code.
func Wrap(code string, key []byte, kdf KDF, now time.Time) (File, error) {
	secret, err := normalize(code)
	if err != nil {
		return File{}, err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return File{}, err
	}
	kek := argon2.IDKey(secret, salt, kdf.Time, kdf.Memory, kdf.Threads, chacha20poly1305.KeySize)
	defer clear(kek)
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return File{}, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return File{}, err
	}
	return File{
		Version: 1, KeyID: KeyID(key), KDF: kdf,
		Salt: hex.EncodeToString(salt), Nonce: hex.EncodeToString(nonce),
		Wrapped:   hex.EncodeToString(aead.Seal(nil, nonce, key, []byte(aad))),
		CreatedAt: now.UnixMilli(),
	}, nil
}

// Unwrap returns the key in f if code is right, or ErrBadCode.
func (f File) Unwrap(code string) ([]byte, error) {
	secret, err := normalize(code)
	if err != nil {
		return nil, err
	}
	salt, err1 := hex.DecodeString(f.Salt)
	nonce, err2 := hex.DecodeString(f.Nonce)
	wrapped, err3 := hex.DecodeString(f.Wrapped)
	if f.Version != 1 || err1 != nil || err2 != nil || err3 != nil || f.KDF.Time == 0 || f.KDF.Threads == 0 || f.KDF.Memory > 4<<20 {
		return nil, errors.New("the recovery file is malformed")
	}
	kek := argon2.IDKey(secret, salt, f.KDF.Time, f.KDF.Memory, f.KDF.Threads, chacha20poly1305.KeySize)
	defer clear(kek)
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil || len(nonce) != aead.NonceSize() {
		return nil, errors.New("the recovery file is malformed")
	}
	key, err := aead.Open(nil, nonce, wrapped, []byte(aad))
	if err != nil {
		return nil, ErrBadCode
	}
	return key, nil
}

// Save writes f to path atomically (temp file, fsync, rename), mode 0600.
func Save(path string, f File) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(b, '\n'))
}

// Load reads a recovery file.
func Load(path string) (File, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return File{}, fmt.Errorf("%s: %w", path, ErrNoFile)
	}
	if err != nil {
		return File{}, err
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return File{}, fmt.Errorf("%s: the recovery file is malformed", path)
	}
	return f, nil
}

// WriteFileAtomic replaces path with data so that a crash leaves either the
// old or the new content, never a mix.
func WriteFileAtomic(path string, data []byte) error {
	return atomicfile.WriteBytes(path, data)
}
