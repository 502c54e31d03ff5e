package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// buildRelais compiles the relais binary into dir.
func buildRelais(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "relais")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/relais")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build relais: %w", err)
	}
	return bin, nil
}

// process is a running relais.
type process struct {
	cmd  *exec.Cmd
	base string
	env  []string
	bin  string
	log  *os.File
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startRelais runs `relais serve` with env and waits until /readyz answers.
func startRelais(ctx context.Context, bin, workDir string, env map[string]string) (*process, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	full := append(os.Environ(), "RELAIS_ADDR=127.0.0.1:"+strconv.Itoa(port), "RELAIS_BASE_URL="+base,
		"RELAIS_LOG_LEVEL=error", "RELAIS_FORM_RATE=100000000", "RELAIS_LOGIN_RATE=100000")
	for k, v := range env {
		full = append(full, k+"="+v)
	}
	logf, err := os.Create(filepath.Join(workDir, fmt.Sprintf("relais-%d.log", port)))
	if err != nil {
		return nil, err
	}
	if err := evictFromPageCache(bin); err != nil {
		fmt.Fprintln(os.Stderr, "note: the relais binary stays in the page cache:", err)
	}
	p := &process{base: base, env: full, bin: bin, log: logf}
	p.cmd = exec.Command(bin, "serve")
	p.cmd.Env, p.cmd.Dir, p.cmd.Stdout, p.cmd.Stderr = full, workDir, logf, logf
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		r, err := http.Get(base + "/readyz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return p, nil
			}
		}
		select {
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	p.stop()
	logged, _ := os.ReadFile(logf.Name())
	return nil, fmt.Errorf("relais did not become ready; its log:\n%s", logged)
}

// cli runs a relais sub-command with the process's environment and returns its output.
func (p *process) cli(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, p.bin, args...)
	cmd.Env, cmd.Dir = p.env, p.cmd.Dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("relais %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// peakMB reads VmHWM, the peak resident memory, in MB.
func (p *process) peakMB() float64 { return p.statusMB("VmHWM") }

// rssMB reads the current resident memory, in MB.
func (p *process) rssMB() float64 { return p.statusMB("VmRSS") }

func (p *process) statusMB(field string) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// cpuSeconds reads the CPU time relais has used so far (user and system, Linux:
// /proc/PID/stat, in clock ticks, taken as 1/100 s: Linux's USER_HZ on every common
// platform). Per request it drifts far less than
// throughput on a shared machine: what a change saves shows there first.
func (p *process) cpuSeconds() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	s := string(b)
	// The fields after the command name (in parentheses, which may hold spaces).
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100
}

// machineCPU reads the machine's busy and total CPU time so far (Linux: /proc/stat's
// first line, in clock ticks), to tell a scenario that waits from one that has no CPU
// left to use.
func machineCPU() (busy, total float64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	for i, v := range f[1:] {
		if i >= 8 { // guest and guest_nice, already counted in user and nice
			break
		}
		n, _ := strconv.ParseFloat(v, 64)
		total += n
		if i != 3 && i != 4 { // idle and iowait
			busy += n
		}
	}
	return busy, total
}

// machineMeter measures the whole machine's CPU time from its start.
type machineMeter struct{ busy, total float64 }

func startMachineMeter() machineMeter {
	b, t := machineCPU()
	return machineMeter{b, t}
}

// per returns the machine's CPU time per request since m started, in µs (clock ticks
// taken as 1/100 s, as in cpuSeconds), and how busy the machine was, 0–1. When both a
// run of relais and its floor keep the machine busy, their throughputs stand in the
// inverse ratio of these times: what relais would have to spend per request, all
// processes counted, to reach a given share of its floor.
func (m machineMeter) per(requests int) (us, busy float64) {
	b, t := machineCPU()
	return (b - m.busy) / 100 / float64(max(requests, 1)) * 1e6, (b - m.busy) / max(t-m.total, 1)
}

// resetPeak sets VmHWM back to the current RSS (Linux: clear_refs 5), so that each
// scenario reports its own peak.
func (p *process) resetPeak() {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.cmd.Process.Pid), []byte("5"), 0)
}

func (p *process) stop() {
	if p.cmd.Process != nil {
		p.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			p.cmd.Process.Kill()
		}
	}
	p.log.Close()
}

// profile starts a CPU profile of relais for d when dir is set, and returns a function
// that waits for it and writes it to dir/name.pprof.
func (p *process) profile(dir, name string, d time.Duration) func() {
	addr := ""
	for _, kv := range p.env {
		if v, ok := strings.CutPrefix(kv, "RELAIS_PPROF_ADDR="); ok {
			addr = v
		}
	}
	if dir == "" || addr == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		res, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, max(1, int(d.Seconds()))))
		if err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
			return
		}
		defer res.Body.Close()
		f, err := os.Create(filepath.Join(dir, name+".pprof"))
		if err != nil {
			fmt.Fprintln(os.Stderr, "profile:", err)
			return
		}
		defer f.Close()
		io.Copy(f, res.Body)
	}()
	return func() { <-done }
}
