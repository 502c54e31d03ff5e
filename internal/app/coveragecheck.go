package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"relais/internal/model"
	"relais/internal/store"
)

// The background check of coverage pages. A blogger's link is an address the server
// will fetch, so it must never become a way to probe the server's own network
// (server-side request forgery): every connection, the first and each redirect's, is
// checked at dial time against the address it is about to reach — after DNS, so that
// a name resolving to 127.0.0.1 or re-bound between two lookups is caught too.

// RefusedAddressError says that a page check would have reached an address that is
// not on the public internet.
type RefusedAddressError struct{ Addr netip.Addr }

func (e *RefusedAddressError) Error() string {
	return "refused address " + e.Addr.String() + " (not a public internet address)"
}

// nonPublic lists the ranges that netip's predicates do not cover: "this network",
// shared address space (carrier-grade NAT), IETF protocol assignments, benchmarking,
// reserved and broadcast, the deprecated IPv6 site-local range and local-use NAT64.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("fec0::/10"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// PublicAddress reports whether a page check may connect to addr: not private
// (10/8, 172.16/12, 192.168/16, fc00::/7), loopback (127/8, ::1), link-local
// (169.254/16, fe80::/10), unspecified (0.0.0.0, ::), multicast, nor reserved.
// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
func PublicAddress(addr netip.Addr) bool {
	addr = addr.Unmap()
	if !addr.IsValid() || addr.IsLoopback() || addr.IsPrivate() || addr.IsUnspecified() ||
		addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() ||
		addr.IsMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// PageChecker fetches coverage pages with a time limit, a size limit, few redirects
// and, unless AllowPrivate, only from public internet addresses.
type PageChecker struct {
	AllowPrivate bool
	Timeout      time.Duration // whole fetch, redirects included
	MaxBytes     int64         // of the page read
	MaxRedirects int
	// LookupIP resolves a host name; nil uses the system resolver. Tests map names
	// to addresses with it.
	LookupIP func(ctx context.Context, host string) ([]netip.Addr, error)
}

// NewPageChecker returns a checker with the limits of Relais: 5 s, 1 MB, 3 redirects.
func NewPageChecker(allowPrivate bool) *PageChecker {
	return &PageChecker{AllowPrivate: allowPrivate, Timeout: 5 * time.Second, MaxBytes: 1 << 20, MaxRedirects: 3}
}

// control runs once the address to connect to is known and before connecting.
func (p *PageChecker) control(_, address string, _ syscall.RawConn) error {
	if p.AllowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("unexpected address %q", address)
	}
	if !PublicAddress(ap.Addr()) {
		return &RefusedAddressError{Addr: ap.Addr().Unmap()}
	}
	return nil
}

func (p *PageChecker) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if p.LookupIP != nil {
		return p.LookupIP(ctx, host)
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// dial connects to one of the host's addresses; the dialer's control func refuses
// the non-public ones.
func (p *PageChecker) dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else if addrs, err = p.lookup(ctx, host); err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("no address for %s", host)
	}
	d := &net.Dialer{Timeout: p.Timeout, Control: p.control}
	var first error
	for _, ip := range addrs {
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

func (p *PageChecker) client() *http.Client {
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would connect for us, unchecked
		DialContext:            p.dial,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    p.Timeout,
		ResponseHeaderTimeout:  p.Timeout,
		MaxResponseHeaderBytes: 64 << 10,
		DisableKeepAlives:      true,
	}
	return &http.Client{Transport: tr, Timeout: p.Timeout, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) > p.MaxRedirects {
			return fmt.Errorf("more than %d redirects", p.MaxRedirects)
		}
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return fmt.Errorf("redirect to %s", req.URL.Scheme)
		}
		return nil
	}}
}

// Page is what a check read of a page.
type Page struct {
	URL    string // after redirects
	Status int
	Title  string
	Text   string   // visible text and title, folded (lower case, no accents)
	Links  []string // absolute addresses of the page's links
}

// Fetch reads a page within the checker's limits.
func (p *PageChecker) Fetch(ctx context.Context, rawURL string) (*Page, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("not a web address")
	}
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "Relais coverage check (+https://github.com/relais)")
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5")
	req.Header.Set("Accept-Language", "fr,en;q=0.8")
	resp, err := p.client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	page := &Page{URL: resp.Request.URL.String(), Status: resp.StatusCode}
	if resp.StatusCode >= 400 {
		return page, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if ct != "" && ct != "text/html" && ct != "application/xhtml+xml" {
		return page, nil // a picture or a video: nothing to read
	}
	readPage(io.LimitReader(resp.Body, p.MaxBytes), resp.Request.URL, page)
	return page, nil
}

// readPage collects a page's title, visible text and links.
func readPage(r io.Reader, base *url.URL, page *Page) {
	z := html.NewTokenizer(r)
	var text strings.Builder
	var title, ogTitle strings.Builder
	inTitle, skip := false, 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			page.Title = cleanSpace(title.String())
			if page.Title == "" {
				page.Title = cleanSpace(ogTitle.String())
			}
			page.Title = clip(page.Title, model.MaxCoverageTitle-1)
			page.Text = model.FoldText(page.Title + " " + ogTitle.String() + " " + text.String())
			return
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			switch a {
			case atom.Title:
				inTitle = tt == html.StartTagToken && title.Len() == 0
			case atom.Script, atom.Style, atom.Noscript, atom.Template:
				if tt == html.StartTagToken {
					skip++
				}
			}
			var prop, content string
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				switch key := string(k); {
				case a == atom.A && key == "href":
					if l, err := base.Parse(strings.TrimSpace(string(v))); err == nil && len(page.Links) < 5000 {
						page.Links = append(page.Links, l.String())
					}
				case a == atom.Meta && (key == "property" || key == "name"):
					prop = string(v)
				case a == atom.Meta && key == "content":
					content = string(v)
				}
			}
			if prop == "og:title" && ogTitle.Len() == 0 {
				ogTitle.WriteString(content)
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch atom.Lookup(name) {
			case atom.Title:
				inTitle = false
			case atom.Script, atom.Style, atom.Noscript, atom.Template:
				if skip > 0 {
					skip--
				}
			}
		case html.TextToken:
			if inTitle {
				title.Write(z.Text())
			} else if skip == 0 && text.Len() < 2<<20 {
				text.Write(z.Text())
				text.WriteByte(' ')
			}
		}
	}
}

func cleanSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// Analyse says whether the page names the event (its title, without case or accents)
// and links to its public page /e/{slug} on this site.
func (a *App) analysePage(page *Page, ev *model.Event) (mentions, links bool) {
	if t := model.FoldText(ev.Title); t != "" {
		mentions = strings.Contains(page.Text, t)
	}
	base, err := url.Parse(a.Config.BaseURL)
	if err != nil {
		return mentions, false
	}
	want := "/e/" + ev.Slug
	for _, l := range page.Links {
		u, err := url.Parse(l)
		if err != nil || !sameHost(u.Hostname(), base.Hostname()) {
			continue
		}
		p := strings.TrimSuffix(u.Path, "/")
		if p == want || strings.HasPrefix(p, want+"/") {
			return mentions, true
		}
	}
	return mentions, false
}

func sameHost(a, b string) bool {
	a, b = strings.TrimPrefix(strings.ToLower(a), "www."), strings.TrimPrefix(strings.ToLower(b), "www.")
	return a != "" && a == b
}

// coverageClaim is how long a worker keeps an item it is checking before another
// may take it over (the fetch itself gives up after a few seconds).
const coverageClaim = time.Minute

// CheckCoverage fetches the page of one coverage item now, whatever its state, and
// records what it found.
func (a *App) CheckCoverage(ctx context.Context, id int64) (*model.Coverage, error) {
	if _, err := a.checkCoverage(ctx, id, true); err != nil {
		return nil, err
	}
	return a.Store.FindCoverage(ctx, id)
}

// checkCoverage claims an item and checks it. It reports false when another worker
// holds the item (or it was checked meanwhile).
func (a *App) checkCoverage(ctx context.Context, id int64, force bool) (bool, error) {
	now := a.Now()
	ok, err := a.Store.ClaimCoverageCheck(ctx, id, now, now.Add(coverageClaim), force)
	if err != nil || !ok {
		return false, err
	}
	c, err := a.Store.FindCoverage(ctx, id)
	if err != nil {
		return false, err
	}
	ev, err := a.Store.FindEventByID(ctx, c.EventID)
	if err != nil {
		return false, err
	}
	res := store.CoverageCheckResult{Status: model.CheckOK}
	page, ferr := NewPageChecker(a.Config.CoverageCheckAllowPrivate).Fetch(ctx, c.URL)
	var refused *RefusedAddressError
	switch {
	case errors.As(ferr, &refused):
		res.Status, res.Error = model.CheckRefused, clip(refused.Error(), 400)
	case ferr != nil:
		res.Status, res.Error = model.CheckError, clip(checkErrorText(ferr), 400)
	}
	if page != nil {
		res.PageTitle = page.Title
		res.MentionsEvent, res.LinksEvent = a.analysePage(page, ev)
	}
	if err := a.Store.SaveCoverageCheck(ctx, c.ID, c.URL, a.Now(), res); err != nil {
		return false, err
	}
	return true, nil
}

// checkErrorText shortens a fetch error for organizers: the cause, not Go's wrapping.
func checkErrorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout") {
		return "timeout"
	}
	return err.Error()
}

// coverageBatch is how many due items one pass of the worker takes.
const coverageBatch = 20

// CheckDueCoverage checks the pages of the items due now (new ones, and those whose
// claim expired), one batch, and returns how many this instance checked.
func (a *App) CheckDueCoverage(ctx context.Context) (int, error) {
	ids, err := a.Store.DueCoverageChecks(ctx, a.Now(), coverageBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		ok, err := a.checkCoverage(ctx, id, false)
		if err != nil {
			if ctx.Err() != nil {
				return n, ctx.Err()
			}
			a.Log.Error("coverage check", "coverage", id, "err", err)
		} else if ok {
			n++
		}
	}
	return n, nil
}

// RunCoverageChecks checks the pages of new coverage items until ctx ends, polling
// every interval. Several instances may run it: each item is claimed by one.
func (a *App) RunCoverageChecks(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := a.CheckDueCoverage(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			a.Log.Error("coverage check", "err", err)
		}
		if n == coverageBatch {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
