package faulttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"relais/internal/mail/mailtest"
	"relais/internal/model"
	"relais/internal/store"
)

// newHTTPClient keeps cookies and does not follow redirects: the tests look at the 303s.
func newHTTPClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// apiClient calls the JSON API with a Bearer token.
type apiClient struct {
	base, token string
	hc          *http.Client
}

// on returns the same client aimed at another instance.
func (a *apiClient) on(p *relais) *apiClient {
	return &apiClient{base: p.base, token: a.token, hc: a.hc}
}

// do sends body as JSON and returns the answer, whatever its status. Safe from any goroutine.
func (a *apiClient) do(method, path string, body any) (answer, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{}, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, r)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := a.hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{Status: res.StatusCode, Location: res.Header.Get("Location"), Header: res.Header, Body: string(b)}, nil
}

// call is do that wants a 2xx, whose JSON it decodes into out (when not nil).
func (a *apiClient) call(method, path string, body, out any) error {
	ans, err := a.do(method, path, body)
	if err != nil {
		return err
	}
	if ans.Status < 200 || ans.Status > 299 {
		return fmt.Errorf("%s %s: %d %s", method, path, ans.Status, strings.TrimSpace(ans.Body))
	}
	if out != nil {
		return json.Unmarshal([]byte(ans.Body), out)
	}
	return nil
}

func (a *apiClient) must(t *testing.T, method, path string, body, out any) {
	t.Helper()
	if err := a.call(method, path, body, out); err != nil {
		t.Fatal(err)
	}
}

type event struct {
	ID   int64  `json:"id"`
	Slug string `json:"slug"`
}

// createEvent creates a published event, open to registration, a month from now.
func (a *apiClient) createEvent(t *testing.T, title string, capacity int) event {
	t.Helper()
	start := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Hour)
	var ev event
	a.must(t, "POST", "/api/v1/events", map[string]any{"title": title, "starts_at": start,
		"ends_at": start.Add(3 * time.Hour), "capacity": capacity, "status": "published",
		"venue_name": "Maison de la presse, Lomé"}, &ev)
	if ev.ID == 0 || ev.Slug == "" {
		t.Fatalf("created event has no id or slug: %+v", ev)
	}
	return ev
}

type registration struct {
	ID         int64  `json:"id"`
	Email      string `json:"email"`
	Status     string `json:"status"`
	TicketCode string `json:"ticket_code"`
}

// registrations lists every registration of an event, page after page.
func (a *apiClient) registrations(t *testing.T, eventID int64) []registration {
	t.Helper()
	var all []registration
	for page := 1; page <= 100; page++ {
		var res struct {
			Registrations []registration `json:"registrations"`
			Total         int            `json:"total"`
		}
		a.must(t, "GET", fmt.Sprintf("/api/v1/events/%d/registrations?per_page=200&page=%d", eventID, page), nil, &res)
		all = append(all, res.Registrations...)
		if len(res.Registrations) < 200 || len(all) >= res.Total {
			return all
		}
	}
	t.Fatal("more than 100 pages of registrations")
	return nil
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// visitor is a browser without JavaScript: a cookie jar and the CSRF token of the last
// form it loaded (none on the cached public event page, whose form checks the Origin).
type visitor struct {
	hc   *http.Client
	csrf string
}

// newVisitor loads the page u and keeps its form's CSRF token and cookie.
func newVisitor(u string) (*visitor, error) {
	v := &visitor{hc: newHTTPClient()}
	return v, v.load(u)
}

func (v *visitor) load(u string) error {
	res, err := v.hc.Get(u)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d", u, res.StatusCode)
	}
	v.csrf = ""
	if m := csrfField.FindSubmatch(b); m != nil {
		v.csrf = string(m[1])
	}
	return nil
}

// answer is what the server said to a form post.
type answer struct {
	Status   int
	Location string
	Header   http.Header
	Body     string
}

// post sends a form with the CSRF token, and its origin as a browser does.
func (v *visitor) post(u string, form url.Values) (answer, error) {
	if v.csrf != "" {
		form.Set("_csrf", v.csrf)
	}
	req, err := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if pu, err := url.Parse(u); err == nil {
		req.Header.Set("Origin", pu.Scheme+"://"+pu.Host)
	}
	res, err := v.hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{Status: res.StatusCode, Location: res.Header.Get("Location"), Header: res.Header, Body: string(b)}, nil
}

// register posts the public registration form of the event at base.
func (v *visitor) register(base, slug, email string) (answer, error) {
	return v.post(base+"/e/"+slug+"/register", url.Values{"first_name": {"Afi"}, "last_name": {"Mensah"},
		"email": {email}, "consent": {"yes"}})
}

// acknowledged says the registration was recorded: the 303 to the ticket page.
func (a answer) acknowledged() bool {
	return a.Status == http.StatusSeeOther && strings.HasPrefix(a.Location, "/t/")
}

// login signs a staff member in through the login form; the visitor keeps the session.
func login(t *testing.T, base, email, password string) *visitor {
	t.Helper()
	v, err := newVisitor(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	a, err := v.post(base+"/login", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != http.StatusSeeOther {
		t.Fatalf("login: %d, want 303", a.Status)
	}
	return v
}

// get fetches a page with the visitor's cookies and returns its status and body.
func (v *visitor) get(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := v.hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// deliveries lists the Message-IDs of the messages the SMTP server accepted, per
// recipient (lower case), in the order they arrived: a message delivered twice shows
// its Message-ID twice.
func deliveries(srv *mailtest.Server) map[string][]string {
	got := map[string][]string{}
	for _, r := range srv.Received() {
		id := "(unreadable message)"
		if m, err := mail.ReadMessage(bytes.NewReader(r.Data)); err == nil {
			id = m.Header.Get("Message-Id")
		}
		for _, to := range r.To {
			to = strings.ToLower(to)
			got[to] = append(got[to], id)
		}
	}
	return got
}

// openStore opens the database the relais processes use, to look at the outbox.
func openStore(t *testing.T, databaseURL string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// outbox returns every message of an event, newest first.
func outbox(t *testing.T, st *store.Store, eventID int64) []model.Message {
	t.Helper()
	msgs, _, err := st.ListMessages(context.Background(), store.MessageFilter{EventID: &eventID})
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// unsent describes the messages not yet sent, or "" when all are.
func unsent(msgs []model.Message) string {
	var b strings.Builder
	n := 0
	for _, m := range msgs {
		if m.Status != model.MessageSent {
			if n < 5 {
				fmt.Fprintf(&b, " [%d %s to %s: %s, %d attempts, next %s, %q]", m.ID, m.Kind, m.ToEmail, m.Status,
					m.Attempts, m.NextAttemptAt.Format(time.RFC3339Nano), m.LastError)
			}
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d messages not sent:%s", n, len(msgs), b.String())
}

// settle waits (2 s at most) until the SMTP server has received nothing new for 100 ms:
// a message whose sender was just killed may still be in the server's buffers.
func settle(srv *mailtest.Server) {
	n := len(srv.Received())
	for range 20 {
		time.Sleep(100 * time.Millisecond)
		m := len(srv.Received())
		if m == n {
			return
		}
		n = m
	}
}
