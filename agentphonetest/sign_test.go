package agentphonetest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentphone-connector/connector/sources/webhook"
)

// Sign reproduces the signatures of the provider's test vectors, and the
// connector's verifier agrees with them on every vector.
func TestSignMatchesVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "agentphone", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vs struct {
		Secret    string `json:"secret"`
		Now       int64  `json:"now"`
		Tolerance int64  `json:"toleranceSeconds"`
		Vectors   []struct {
			Name, File, Timestamp, Signature string
			Valid                            bool
		} `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatal(err)
	}
	v := webhook.NewVerifier([]webhook.Secret{webhook.Secret(vs.Secret)}, time.Duration(vs.Tolerance)*time.Second)
	for _, vec := range vs.Vectors {
		t.Run(vec.Name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("..", "testdata", "agentphone", vec.File))
			if err != nil {
				t.Fatal(err)
			}
			got := Sign(vs.Secret, vec.Timestamp, body)
			// The vector's signature in canonical form; it is Sign's output for
			// every valid vector, and for the one whose only fault is its
			// timestamp.
			norm := "sha256=" + strings.ToLower(strings.TrimPrefix(vec.Signature, "sha256="))
			if want := vec.Valid || vec.Name == "non_numeric_timestamp"; (got == norm) != want {
				t.Errorf("Sign = %s, vector %s (valid %v)", got, vec.Signature, vec.Valid)
			}
			if err := v.Verify(body, got, vec.Timestamp, time.Unix(vs.Now, 0)); (err == nil) != (vec.Name != "non_numeric_timestamp") {
				t.Errorf("connector verifier on Sign's output: %v", err)
			}
		})
	}
}
