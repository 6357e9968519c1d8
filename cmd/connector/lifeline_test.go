//go:build unix

package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// asMain makes the test binary run as the connector itself (main with the
// arguments after the test's), so that tests can start it as a process.
const asMain = "CONNECTOR_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMain) == "1" {
		main()
	}
	os.Exit(m.Run())
}

// lifelineExit bounds how long a command may outlive what it is tied to.
const lifelineExit = 10 * time.Second

// tailing starts cmd, its standard error a pipe, and returns that pipe once
// the command says it is tailing; the caller's copy of the write end is
// closed, so the pipe ends when every process holding it has exited.
func tailing(t *testing.T, cmd *exec.Cmd) *bufio.Reader {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	cmd.Stderr = w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the cleanup kills the group: the command too, if orphaned
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); _ = cmd.Wait() })
	stderr := bufio.NewReader(r)
	lines := make(chan string, 1)
	go func() {
		var seen strings.Builder
		for {
			line, err := stderr.ReadString('\n')
			seen.WriteString(line)
			if strings.HasPrefix(line, "tailing ") || err != nil {
				lines <- seen.String()
				return
			}
		}
	}()
	select {
	case seen := <-lines:
		if !strings.Contains(seen, "tailing ") {
			t.Fatalf("the command did not start tailing: %s", seen)
		}
	case <-time.After(2 * time.Minute): // go run may build first
		t.Fatal("the command did not start tailing")
	}
	return stderr
}

// waitEOF fails unless r ends within lifelineExit: every process that held
// it has exited.
func waitEOF(t *testing.T, r io.Reader, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, r); close(done) }()
	select {
	case <-done:
	case <-time.After(lifelineExit):
		t.Fatalf("tail still runs %v after %s", lifelineExit, what)
	}
}

func selfAsConnector(env map[string]string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asMain+"=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// `go run` catches SIGINT and passes no signal on to the program it runs,
// and dies of SIGTERM: killing it must not leave `connector tail` behind.
func TestTailUnderGoRunEndsWithIt(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	s := startServe(t, baseEnv(t))
	cmd := exec.Command(goTool, "run", ".", "tail")
	for k, v := range alongside(s) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(os.Environ(), cmd.Env...)
	stderr := tailing(t, cmd)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitEOF(t, stderr, "go run was killed")
}

// A tail whose standard output has no reader left, or whose standard input
// (a pipe) closes, stops though nothing signals it.
func TestTailEndsWithItsPipes(t *testing.T) {
	s := startServe(t, baseEnv(t))
	for _, end := range []string{"stdout", "stdin"} {
		t.Run(end, func(t *testing.T) {
			cmd := selfAsConnector(alongside(s), "tail")
			inR, inW, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			outR, outW, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stdin, cmd.Stdout = inR, outW
			stderr := tailing(t, cmd)
			inR.Close()
			outW.Close()
			if end == "stdout" {
				outR.Close()
				defer inW.Close()
			} else {
				inW.Close()
				defer outR.Close()
			}
			waitEOF(t, stderr, end+" closed")
			if err := cmd.Wait(); err != nil {
				t.Errorf("exit: %v, want 0", err)
			}
		})
	}
}
