package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestEachRunOnItsOwnStore: every run of a journaling target starts on the
// prefilled store as it was prefilled, whatever an earlier run wrote to its
// copy; the verify-only target and an empty history get an empty directory.
func TestEachRunOnItsOwnStore(t *testing.T) {
	h := history{events: 50, shape: traffic{agents: 4, conversations: 10}}
	cleanup, err := h.prefill(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	want := files(t, h.dir)
	if len(want) == 0 {
		t.Fatal("the prefill wrote nothing")
	}
	tmp := t.TempDir()

	first := filepath.Join(tmp, "first")
	if prefilled, err := h.runStore("connector", first); err != nil || !prefilled {
		t.Fatalf("connector: prefilled %v, %v; want a copy of the history", prefilled, err)
	}
	if got := files(t, first); len(got) != len(want) {
		t.Fatalf("the copy holds %d files, the history %d", len(got), len(want))
	}
	if err := os.WriteFile(filepath.Join(first, "written-by-the-first-run"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	second := filepath.Join(tmp, "second")
	if _, err := h.runStore("verify+publish", second); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(second, "written-by-the-first-run")); err == nil {
		t.Fatal("the second run's store holds what the first run wrote")
	}
	if got := files(t, second); len(got) != len(want) {
		t.Fatalf("the second copy holds %d files, the history %d", len(got), len(want))
	}

	for _, c := range []struct {
		name string
		h    history
	}{{"verify", h}, {"connector", history{}}} {
		dir := filepath.Join(tmp, "empty-"+c.name)
		if prefilled, err := c.h.runStore(c.name, dir); err != nil || prefilled {
			t.Fatalf("%s with %d events: prefilled %v, %v; want an empty directory", c.name, c.h.events, prefilled, err)
		}
		if got := files(t, dir); len(got) != 0 {
			t.Fatalf("%s with %d events: %d files, want none", c.name, c.h.events, len(got))
		}
	}
}

// files lists the regular files under dir.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
