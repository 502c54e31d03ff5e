// Package browsertest starts Debian's headless Chromium for page tests through chromedp.
// The tests skip (with a message saying how to enable them) when Chromium is missing,
// unless RELAIS_REQUIRE_CHROMIUM=1, as in CI, where a missing browser fails them.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Path returns the Chromium binary, or "".
func Path() string {
	for _, p := range []string{os.Getenv("RELAIS_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// New returns a chromedp context on a fresh headless Chromium with a phone-sized or
// desktop viewport, closed at the end of the test. The context carries an overall
// time limit so that a stuck page fails the test instead of hanging the suite.
func New(t *testing.T, width, height int64) context.Context {
	t.Helper()
	path := Path()
	if path == "" {
		if os.Getenv("RELAIS_REQUIRE_CHROMIUM") == "1" {
			t.Fatal("Chromium is required (RELAIS_REQUIRE_CHROMIUM=1) but was not found: apt-get install chromium")
		}
		t.Skip("Chromium not found: apt-get install chromium (or set RELAIS_CHROMIUM) to run the browser tests")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// Bloggers here browse in French: pages are negotiated from Accept-Language.
		chromedp.Flag("lang", "fr-FR"),
		chromedp.Flag("accept-lang", "fr-FR,fr"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(int(width), int(height)),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		cancelC()
		cancelA()
		t.Fatalf("start Chromium: %v", err)
	}
	tctx, cancelT := context.WithTimeout(ctx, 45*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	return tctx
}

// Screenshot saves a full-page PNG under RELAIS_TEST_OUTPUT (or the test's temp dir).
func Screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	dir := os.Getenv("RELAIS_TEST_OUTPUT")
	if dir == "" {
		dir = t.TempDir()
	}
	dir = filepath.Join(dir, "screenshots")
	os.MkdirAll(dir, 0o755)
	file := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()+"-"+name)+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}
