package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"relais/internal/model"
)

// The home page and an event's page are the same for every anonymous visitor in a
// language: they carry no CSRF token (the public registration form is guarded by the
// browser's Fetch metadata instead, see publicFormGuard), no session and no flash.
// pageCache keeps them rendered and compressed for pageCacheTTL, so that a burst of
// visitors (an invitation shared on WhatsApp) costs one render per second, not one per
// visit. Each instance has its own cache: an edit shows everywhere within the TTL.
const pageCacheTTL = time.Second

// cachedRoutes are the route patterns whose anonymous GETs are cached.
var cachedRoutes = map[string]bool{"/": true, "/e/:slug": true}

type cachedPage struct {
	contentType string
	raw, gz     []byte
	etag        string
	expires     time.Time
}

type pageCache struct {
	mu      sync.RWMutex
	entries map[string]*cachedPage
	now     func() time.Time
}

func newPageCache(now func() time.Time) *pageCache {
	return &pageCache{entries: map[string]*cachedPage{}, now: now}
}

func (pc *pageCache) get(key string) *cachedPage {
	pc.mu.RLock()
	p := pc.entries[key]
	pc.mu.RUnlock()
	if p == nil || !pc.now().Before(p.expires) {
		return nil
	}
	return p
}

func (pc *pageCache) put(key string, p *cachedPage) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	now := pc.now()
	if len(pc.entries) > 1000 { // many events or slugs probed: drop what has expired
		for k, e := range pc.entries {
			if !now.Before(e.expires) {
				delete(pc.entries, k)
			}
		}
	}
	pc.entries[key] = p
}

// purge forgets every page: a change made through this instance shows at once.
func (pc *pageCache) purge() {
	pc.mu.Lock()
	if len(pc.entries) > 0 {
		pc.entries = map[string]*cachedPage{}
	}
	pc.mu.Unlock()
}

// purgePagesOnWrite empties the page cache after every request that may have changed
// something (any method but GET, HEAD and OPTIONS): an organizer's edit, a registration
// that fills the last seat. Other instances see the change within pageCacheTTL.
func (s *Server) purgePagesOnWrite(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			s.pages.purge()
			if c.Path() != "/e/:slug/register" { // a registration changes neither its event nor its questions
				s.regForms.purge()
			}
		}
		return err
	}
}

// pageCacheable tells whether the request may be answered from the cache: a GET or
// HEAD of a cached route, with no query and no session cookie (staff see their own
// bar, and a flash may be waiting).
func (s *Server) pageCacheable(c echo.Context) bool {
	r := c.Request()
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || !cachedRoutes[c.Path()] || r.URL.RawQuery != "" {
		return false
	}
	_, err := r.Cookie(s.sessions.Cookie.Name)
	return err != nil
}

// cachePublicPage answers cacheable requests from the cache, filling it on a miss.
// It must run before the session and CSRF middleware, which it skips on a hit.
func (s *Server) cachePublicPage(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.pageCacheable(c) {
			return next(c)
		}
		key := c.Request().URL.Path + "\x00" + langOf(c)
		if p := s.pages.get(key); p != nil {
			return p.serve(c)
		}
		c.Set("page_cacheable", true)
		res := c.Response()
		orig := res.Writer
		rec := &recorder{header: http.Header{}}
		res.Writer = rec
		err := next(c)
		res.Writer = orig
		if err != nil {
			// Nothing was written to the client yet: the error handler answers.
			res.Committed, res.Size, res.Status = false, 0, http.StatusOK
			return err
		}
		for k, v := range rec.header {
			res.Header()[k] = v
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		if rec.status != http.StatusOK || rec.header.Get("Set-Cookie") != "" || rec.body.Len() == 0 {
			res.Writer.WriteHeader(rec.status)
			_, werr := res.Writer.Write(rec.body.Bytes())
			return werr
		}
		p, err := newCachedPage(rec.header.Get(echo.HeaderContentType), rec.body.Bytes(), time.Now().Add(pageCacheTTL))
		if err != nil {
			return err
		}
		s.pages.put(key, p)
		res.Committed = false // the recorder took the handler's header; serve writes the real one
		return p.serve(c)
	}
}

func newCachedPage(contentType string, body []byte, expires time.Time) (*cachedPage, error) {
	raw := bytes.Clone(body)
	var gz bytes.Buffer
	w, err := gzip.NewWriterLevel(&gz, gzip.BestCompression) // once a second: the smallest answer
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(raw); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	return &cachedPage{contentType: contentType, raw: raw, gz: gz.Bytes(),
		etag: `"` + hex.EncodeToString(sum[:12]) + `"`, expires: expires}, nil
}

// serve writes the page, compressed when the client accepts gzip, or a 304 when the
// client already holds it (a blogger reopening the page pays a few bytes).
func (p *cachedPage) serve(c echo.Context) error {
	r, res := c.Request(), c.Response()
	h := res.Header()
	h.Set(echo.HeaderContentType, p.contentType)
	h.Set(echo.HeaderVary, "Accept-Encoding, Accept-Language, Cookie")
	h.Set("ETag", p.etag)
	h.Set(echo.HeaderCacheControl, "no-cache")
	if etagMatch(r.Header.Get("If-None-Match"), p.etag) {
		res.WriteHeader(http.StatusNotModified)
		return nil
	}
	body := p.raw
	if acceptsGzip(r) {
		h.Set(echo.HeaderContentEncoding, "gzip")
		body = p.gz
	}
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(body)))
	res.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err := res.Write(body)
	return err
}

func etagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get(echo.HeaderAcceptEncoding), ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q = strings.ReplaceAll(strings.TrimSpace(q), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// recorder keeps a handler's answer in memory on a cache miss.
type recorder struct {
	header http.Header
	body   bytes.Buffer
	status int
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

// publicFormGuard protects the public registration form against cross-site requests
// with the browser's Fetch metadata (Sec-Fetch-Site, else Origin) instead of a token,
// so that the page holding the form is the same for everyone and can be cached. A page
// re-rendered by this request (a form with errors) gets the visitor's CSRF cookie as its
// token, for the forms that still use one (staff's sign-out).
func (s *Server) publicFormGuard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.crossOrigin.Check(c.Request()); err != nil {
			return &model.Error{Code: model.EForbidden, Message: "error.csrf", Err: err}
		}
		if ck, err := c.Cookie("relais_csrf"); err == nil && ck.Value != "" {
			c.Set("csrf", ck.Value)
		}
		return next(c)
	}
}
