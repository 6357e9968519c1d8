package transform

import (
	"os"
	"path/filepath"
	"testing"
)

func BenchmarkNormalize(b *testing.B) {
	for _, name := range []string{"call_ended", "sms_inbound"} {
		raw, err := os.ReadFile(filepath.Join(fixtureDir, name+".json"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				Normalize(Meta{ID: "whd_1", Source: "agentphone/webhook/project", ReceivedAt: received}, raw)
			}
		})
		b.Run(name+"+marshal", func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				e := Normalize(Meta{ID: "whd_1", Source: "agentphone/webhook/project", ReceivedAt: received}, raw)
				if _, err := e.Marshal(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
