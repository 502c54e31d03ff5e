package faulttest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// relaisBin is the binary TestMain builds once for every test.
var relaisBin string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run()) // every test skips itself
	}
	dir, err := os.MkdirTemp("", "relais-faulttest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faulttest:", err)
		os.Exit(1)
	}
	start := time.Now()
	relaisBin, err = buildRelais(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "faulttest:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "faulttest: built relais in %s\n", time.Since(start).Round(time.Millisecond))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildRelais compiles ./cmd/relais of this module into dir.
func buildRelais(dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := filepath.Join(dir, "relais")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/relais")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/relais: %v\n%s", err, out)
	}
	return bin, nil
}

// moduleRoot walks up from the working directory to the directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// needRelais skips the test in -short mode, where no binary was built.
func needRelais(t *testing.T) {
	t.Helper()
	if testing.Short() || relaisBin == "" {
		t.Skip("fault tests run real relais processes: skipped with -short")
	}
}

// relais is one `relais serve` process, started again on the same address and
// database by restart.
type relais struct {
	t    *testing.T
	name string
	base string   // http://127.0.0.1:PORT
	env  []string // the process's whole environment
	dir  string   // working directory and logs
	runs int

	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited
}

// startRelais runs `relais serve` with the RELAIS_* settings in env (the address, base
// URL and generous rate limits are set here) and waits until /readyz answers 200. The
// process is stopped when the test ends; its log is printed when the test failed.
func startRelais(t *testing.T, name string, env map[string]string) *relais {
	t.Helper()
	needRelais(t)
	port := freePort(t)
	p := &relais{t: t, name: name, base: fmt.Sprintf("http://127.0.0.1:%d", port), dir: t.TempDir()}
	settings := map[string]string{
		"RELAIS_ADDR":            "127.0.0.1:" + strconv.Itoa(port),
		"RELAIS_BASE_URL":        p.base,
		"RELAIS_LOG_LEVEL":       "info",
		"RELAIS_FORM_RATE":       "1000000",
		"RELAIS_LOGIN_RATE":      "1000",
		"RELAIS_COVERAGE_CHECK":  "false",
		"RELAIS_MAIL_RETRY_BASE": "200ms",
	}
	for k, v := range env {
		settings[k] = v
	}
	// The developer's own RELAIS_* settings must not leak into the process.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RELAIS_") {
			p.env = append(p.env, kv)
		}
	}
	for k, v := range settings {
		p.env = append(p.env, k+"="+v)
	}
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			p.dumpLogs()
		}
	})
	p.start()
	return p
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (p *relais) logPath(run int) string {
	return filepath.Join(p.dir, fmt.Sprintf("%s-%d.log", p.name, run))
}

// start runs the process and waits for readiness.
func (p *relais) start() {
	p.t.Helper()
	p.runs++
	logf, err := os.Create(p.logPath(p.runs))
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(relaisBin, "serve")
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = p.env, p.dir, logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		p.t.Fatalf("%s: start relais: %v", p.name, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		logf.Close()
		close(done)
	}()
	p.cmd, p.done = cmd, done
	started := time.Now()
	deadline := started.Add(30 * time.Second)
	hc := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-done:
			p.t.Fatalf("%s: relais exited before it was ready (%v); its log:\n%s", p.name, cmd.ProcessState, p.readLog(p.runs))
		default:
		}
		if res, err := hc.Get(p.base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				p.t.Logf("%s: relais ready in %s (pid %d)", p.name, time.Since(started).Round(time.Millisecond), cmd.Process.Pid)
				return
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: relais not ready after 30 s; its log:\n%s", p.name, p.readLog(p.runs))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// crash ends the process the hard way (SIGKILL): no shutdown, no flush, no release of
// claimed mail.
func (p *relais) crash() {
	p.t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		p.t.Fatalf("%s: kill: %v", p.name, err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Fatalf("%s: still running 10 s after SIGKILL", p.name)
	}
}

// restart starts the process again, on the same address, database and settings.
func (p *relais) restart() {
	p.t.Helper()
	p.stop()
	p.start()
}

// stop asks the process to shut down (SIGTERM), and kills it if it has not within 10 s.
func (p *relais) stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *relais) readLog(run int) string {
	b, err := os.ReadFile(p.logPath(run))
	if err != nil {
		return err.Error()
	}
	const most = 16 << 10 // the end is what explains a failure
	if len(b) > most {
		b = append([]byte("…\n"), b[len(b)-most:]...)
	}
	return string(b)
}

func (p *relais) dumpLogs() {
	for run := 1; run <= p.runs; run++ {
		p.t.Logf("── log of %s, run %d (%s) ──\n%s", p.name, run, p.logPath(run), p.readLog(run))
	}
}

// cli runs a relais sub-command with the process's settings and returns its output.
func (p *relais) cli(args ...string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, relaisBin, args...)
	cmd.Env, cmd.Dir = p.env, p.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		p.t.Fatalf("relais %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// adminPassword is the password of the administrators the tests create.
const adminPassword = "phare de Lomé 2017"

// addAdmin creates an administrator with adminPassword and returns an API client with
// a new token of theirs.
func (p *relais) addAdmin(email string) *apiClient {
	p.t.Helper()
	p.cli("user", "add", "--email", email, "--name", "Admin des tests", "--role", "admin", "--password", adminPassword)
	out := strings.Fields(p.cli("token", "create", "--email", email, "--name", "faulttest"))
	if len(out) == 0 {
		p.t.Fatal("token create printed nothing")
	}
	return &apiClient{base: p.base, token: out[len(out)-1], hc: newHTTPClient()}
}

// waitFor polls cond every 50 ms until it holds, failing the test after timeout with
// cond's last explanation of what it is still waiting for.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ok, why := cond()
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s: not done after %s: %s", what, timeout, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
