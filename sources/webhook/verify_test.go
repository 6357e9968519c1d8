package webhook

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	body := []byte(`{"event":"agent.message"}`)
	now := time.Unix(1772471081, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	at := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	good := sign("whsec_a", ts, body)
	tests := []struct {
		name    string
		secrets []Secret
		sig, ts string
		want    error
	}{
		{"valid", []Secret{"whsec_a"}, good, ts, nil},
		{"second secret while rotating", []Secret{"whsec_new", "whsec_a"}, good, ts, nil},
		{"upper-case prefix and hex", []Secret{"whsec_a"}, strings.ToUpper(good), ts, nil},
		{"surrounding spaces", []Secret{"whsec_a"}, "  " + good + " ", ts, nil},
		{"edge of the window, past", []Secret{"whsec_a"}, sign("whsec_a", at(-300*time.Second), body), at(-300 * time.Second), nil},
		{"edge of the window, future", []Secret{"whsec_a"}, sign("whsec_a", at(300*time.Second), body), at(300 * time.Second), nil},
		{"stale", []Secret{"whsec_a"}, sign("whsec_a", at(-301*time.Second), body), at(-301 * time.Second), ErrStaleTimestamp},
		{"future", []Secret{"whsec_a"}, sign("whsec_a", at(301*time.Second), body), at(301 * time.Second), ErrFutureTimestamp},
		{"far future does not overflow", []Secret{"whsec_a"}, sign("whsec_a", "9223372036854775807", body), "9223372036854775807", ErrFutureTimestamp},
		{"far past does not overflow", []Secret{"whsec_a"}, sign("whsec_a", "-9223372036854775808", body), "-9223372036854775808", ErrStaleTimestamp},
		{"wrong secret", []Secret{"whsec_b"}, good, ts, ErrBadSignature},
		{"old secret removed", []Secret{"whsec_new"}, good, ts, ErrBadSignature},
		{"signature of another timestamp", []Secret{"whsec_a"}, good, at(time.Second), ErrBadSignature},
		{"missing signature", []Secret{"whsec_a"}, "", ts, ErrNoSignature},
		{"missing timestamp", []Secret{"whsec_a"}, good, "", ErrNoTimestamp},
		{"timestamp in milliseconds is stale", []Secret{"whsec_a"}, sign("whsec_a", ts+"000", body), ts + "000", ErrFutureTimestamp},
		{"timestamp not a number", []Secret{"whsec_a"}, good, "2026-03-02T17:04:11Z", ErrBadTimestamp},
		{"truncated hex", []Secret{"whsec_a"}, good[:40], ts, ErrMalformedSignature},
		{"non-hex", []Secret{"whsec_a"}, "sha256=" + strings.Repeat("z", 64), ts, ErrMalformedSignature},
		{"other algorithm", []Secret{"whsec_a"}, "sha1=" + good[7:], ts, ErrMalformedSignature},
		// Right but for the end: a comparison of a prefix would take these.
		{"last hex digit differs", []Secret{"whsec_a"}, good[:len(good)-1] + flipHex(good[len(good)-1]), ts, ErrBadSignature},
		{"17th hex digit differs", []Secret{"whsec_a"}, good[:7+16] + flipHex(good[7+16]) + good[7+17:], ts, ErrBadSignature},
		{"last byte differs", []Secret{"whsec_a"}, good[:len(good)-2] + flipHex(good[len(good)-2]) + flipHex(good[len(good)-1]), ts, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NewVerifier(tt.secrets, 5*time.Minute).Verify(body, tt.sig, tt.ts, now)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

// flipHex returns another hex digit than c.
func flipHex(c byte) string {
	if c == '0' {
		return "1"
	}
	return "0"
}

// FuzzVerify checks that the verifier never panics and never accepts a
// signature that is not the HMAC of the timestamp and body.
func FuzzVerify(f *testing.F) {
	fx := loadFixtures(f)
	for _, v := range fx.Vectors {
		f.Add(readFixture(f, v.File), v.Signature, v.Timestamp)
	}
	f.Add([]byte{}, "sha256=", "0")
	secret := fx.Secret
	v := NewVerifier([]Secret{Secret(secret)}, 5*time.Minute)
	f.Fuzz(func(t *testing.T, body []byte, sig, ts string) {
		unix, _ := strconv.ParseInt(ts, 10, 64)
		err := v.Verify(body, sig, ts, time.Unix(unix, 0))
		if err != nil {
			return
		}
		want := sign(secret, ts, body)
		got := strings.ToLower(strings.TrimSpace(sig))
		if !strings.HasPrefix(got, "sha256=") {
			got = "sha256=" + got
		}
		if got != want {
			t.Fatalf("accepted %q for ts %q, want %q", sig, ts, want)
		}
	})
}
