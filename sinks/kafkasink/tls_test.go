package kafkasink_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/agentphone-connector/connector/sinks/sinktest"
)

// selfSigned returns a certificate for 127.0.0.1 and the PEM file of the CA
// that signs it (itself).
func selfSigned(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kfake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, ca
}

// TestTLS writes to a broker that only speaks TLS, trusting its CA file;
// without the CA the write fails.
func TestTLS(t *testing.T) {
	cert, ca := selfSigned(t)
	k := startCluster(t, kfake.SeedTopics(testPartitions, testTopic), kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}}))
	cfg := testConfig(k)
	cfg.TLSCA = ca
	if err := write(t, cfg, sinktest.Events("tls", 2, 1)); err != nil {
		t.Fatal(err)
	}
	if n := len(readAllTLS(t, cfg.Brokers, ca)); n != 2 {
		t.Fatalf("%d records, want 2", n)
	}
	cfg.TLSCA = ""
	cfg.TLS = true // system roots: the self-signed broker is not trusted
	if err := write(t, cfg, sinktest.Events("tls-untrusted", 1, 1)); err == nil {
		t.Fatal("wrote to an untrusted broker")
	}
}
