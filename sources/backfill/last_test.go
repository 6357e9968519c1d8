package backfill

import (
	"testing"
	"time"

	"github.com/agentphone-connector/connector/agentphonetest"
)

// LastRun reads what the latest run recorded, from any process, and
// reports none before the first.
func TestLastRun(t *testing.T) {
	r := newRig(t, agentphonetest.Options{Account: account(3)})
	if _, ok, err := LastRun(t.Context(), r.js, r.env.Config.Stream); ok || err != nil {
		t.Fatalf("before any run: ok %v, err %v", ok, err)
	}
	rep, err := r.backfill(t, testConfig(), nil).Run(t.Context(), Options{Since: 72 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	st, ok, err := LastRun(t.Context(), r.js, r.env.Config.Stream)
	if !ok || err != nil {
		t.Fatalf("after a run: ok %v, err %v", ok, err)
	}
	if st.Running || st.Phase != phaseDone || st.Report.Calls != rep.Calls || !st.Report.FinishedAt.Equal(rep.FinishedAt) {
		t.Fatalf("LastRun = %+v, want the run's report %+v, done", st, rep)
	}
	if _, err := r.backfill(t, testConfig(), nil).begin(t.Context(), time.Hour, false); err != nil {
		t.Fatal(err)
	}
	if st, _, err := LastRun(t.Context(), r.js, r.env.Config.Stream); err != nil || !st.Running {
		t.Fatalf("while a run holds the lease: %+v, %v; want running", st, err)
	}
}
