package recent

import (
	"fmt"
	"testing"
)

func TestSetForgetsTheOldestFirst(t *testing.T) {
	s := New[string, int](3)
	for i, k := range []string{"a", "b", "c"} {
		if !s.Add(k, i) {
			t.Fatalf("Add(%s) reported the key known", k)
		}
	}
	if s.Add("a", 99) {
		t.Fatal("Add of a known key reported it new")
	}
	if v, _ := s.Get("a"); v != 0 {
		t.Fatalf("a known key's value changed to %d", v)
	}
	s.Get("a") // reading does not keep a key longer: first in, first out
	s.Add("d", 3)
	s.Add("e", 4)
	for k, want := range map[string]bool{"a": false, "b": false, "c": true, "d": true, "e": true} {
		if s.Has(k) != want {
			t.Errorf("Has(%s) = %v, want %v", k, !want, want)
		}
	}
	if s.Len() != 3 {
		t.Errorf("Len = %d, want 3", s.Len())
	}
}

func TestSetWrapsAroundManyTimes(t *testing.T) {
	s := New[int, int](4)
	for i := range 103 {
		s.Add(i, i*10)
	}
	for i := range 103 {
		v, ok := s.Get(i)
		if want := i >= 99; ok != want || ok && v != i*10 {
			t.Errorf("Get(%d) = %d, %v; want remembered %v", i, v, ok, want)
		}
	}
}

func TestEmptySetRemembersNothing(t *testing.T) {
	for _, n := range []int{0, -1} {
		s := New[string, bool](n)
		if s.Add("a", true) || s.Has("a") || s.Len() != 0 {
			t.Errorf("a set of size %d remembered a key", n)
		}
	}
}

func ExampleSet() {
	done := New[string, struct{}](2)
	done.Add("call_1", struct{}{})
	done.Add("call_2", struct{}{})
	done.Add("call_3", struct{}{}) // forgets call_1
	fmt.Println(done.Has("call_1"), done.Has("call_3"))
	// Output: false true
}
