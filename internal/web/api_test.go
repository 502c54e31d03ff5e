package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store/storetest"
	"relais/internal/web"
)

func (c *client) api(method, path, token, body string) *resp {
	c.e.t.Helper()
	req, _ := http.NewRequest(method, c.e.srv.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	r, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer r.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := r.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return &resp{r, b.String()}
}

func (e *env) token(role model.Role) string {
	e.t.Helper()
	u := e.user(role, "api-"+string(role)+"@example.tg")
	tok, _, err := e.app.CreateAPIToken(context.Background(), app.Actor{Name: "test"}, u.ID, "script")
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func errorCode(t *testing.T, r *resp) string {
	t.Helper()
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || body.Error.Message == "" {
		t.Fatalf("not an API error (%d): %s", r.StatusCode, r.body)
	}
	return body.Error.Code
}

func TestAPIEvents(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			c := e.client()
			org, door := e.token(model.RoleOrganizer), e.token(model.RoleDoor)
			body := `{"title":"Session API","starts_at":"2017-05-17T09:00:00Z","ends_at":"2017-05-17T12:00:00Z","capacity":30,"registration_mode":"approval"}`
			if r := c.api("POST", "/api/v1/events", "", body); r.StatusCode != 401 || errorCode(t, r) != "unauthorized" {
				t.Fatalf("anonymous: %d", r.StatusCode)
			}
			if r := c.api("POST", "/api/v1/events", "rls_nope", body); r.StatusCode != 401 {
				t.Fatalf("bad token: %d", r.StatusCode)
			}
			if r := c.api("POST", "/api/v1/events", door, body); r.StatusCode != 403 || errorCode(t, r) != "forbidden" {
				t.Fatalf("door: %d %s", r.StatusCode, r.body)
			}
			r := c.api("POST", "/api/v1/events", org, body)
			if r.StatusCode != 201 {
				t.Fatalf("create: %d %s", r.StatusCode, r.body)
			}
			var ev map[string]any
			json.Unmarshal([]byte(r.body), &ev)
			if ev["slug"] != "session-api" || ev["registration_mode"] != "approval" || ev["starts_at"] != "2017-05-17T09:00:00Z" || ev["status"] != "draft" {
				t.Fatalf("created: %v", ev)
			}
			id := itoa(int64(ev["id"].(float64)))
			r = c.api("PATCH", "/api/v1/events/"+id, org, `{"capacity":-1}`)
			if r.StatusCode != 422 || errorCode(t, r) != "invalid" || !strings.Contains(r.body, `"capacity"`) {
				t.Fatalf("bad patch: %d %s", r.StatusCode, r.body)
			}
			r = c.api("PATCH", "/api/v1/events/"+id, org, `{"status":"published","theme":"Big data for big impact"}`)
			if r.StatusCode != 200 || !strings.Contains(r.body, `"status":"published"`) || !strings.Contains(r.body, "Big data") {
				t.Fatalf("publish: %d %s", r.StatusCode, r.body)
			}
			if r := c.api("PATCH", "/api/v1/events/"+id, org, `{"nope":1}`); r.StatusCode != 400 {
				t.Fatalf("unknown field: %d", r.StatusCode)
			}
			if r := c.api("PATCH", "/api/v1/events/"+id, org, `{not json`); r.StatusCode != 400 {
				t.Fatalf("bad json: %d", r.StatusCode)
			}
			if r := c.api("GET", "/api/v1/events/999999", org, ""); r.StatusCode != 404 || errorCode(t, r) != "not_found" {
				t.Fatalf("missing: %d", r.StatusCode)
			}
			r = c.api("GET", "/api/v1/events?per_page=10", door, "")
			if r.StatusCode != 200 || !strings.Contains(r.body, "session-api") {
				t.Fatalf("list: %d %s", r.StatusCode, r.body)
			}
			// Duplicate slug → 422 on the slug field.
			r = c.api("POST", "/api/v1/events", org, `{"slug":"session-api","title":"Autre","starts_at":"2017-05-17T09:00:00Z","ends_at":"2017-05-17T12:00:00Z"}`)
			if r.StatusCode != 422 || !strings.Contains(r.body, `"slug"`) {
				t.Fatalf("duplicate slug: %d %s", r.StatusCode, r.body)
			}
		})
	}
}

func TestAPISessionNeedsCSRFHeader(t *testing.T) {
	e := newEnv(t, "sqlite")
	org := e.login(model.RoleOrganizer)
	body := `{"title":"Par session","starts_at":"2017-05-17T09:00:00Z","ends_at":"2017-05-17T12:00:00Z"}`
	if r := org.api("POST", "/api/v1/events", "", body); r.StatusCode != 403 {
		t.Fatalf("no CSRF header: %d %s", r.StatusCode, r.body)
	}
	tok := org.csrf("/admin")
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/events", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", tok)
	res, err := org.http.Do(req)
	if err != nil || res.StatusCode != 201 {
		t.Fatalf("with CSRF header: %v %v", res.StatusCode, err)
	}
	res.Body.Close()
}

// A token carries its user as they are now, though it was just read (and kept) as an
// organizer's: disabled, the user's token stops at once; demoted to door staff, it
// loses the organizer's routes at once.
func TestAPITokenFollowsItsUser(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(e *env, admin *model.User, u *model.User) error
		status int
	}{
		{"disabled", func(e *env, admin, u *model.User) error {
			return e.app.SetUserDisabled(context.Background(), app.UserActor(admin), u.ID, true)
		}, http.StatusUnauthorized},
		{"demoted", func(e *env, admin, u *model.User) error {
			in := app.UserInput{Email: u.Email, Name: u.Name, Role: model.RoleDoor, Lang: u.Lang}
			_, err := e.app.UpdateUser(context.Background(), app.UserActor(admin), u.ID, in)
			return err
		}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "sqlite")
			tok := e.token(model.RoleOrganizer)
			c := e.client()
			if r := c.api("GET", "/api/v1/contacts", tok, ""); r.StatusCode != 200 {
				t.Fatalf("organizer's token: %d", r.StatusCode)
			}
			u, _ := e.app.Store.FindUserByEmail(context.Background(), "api-organizer@example.tg")
			if err := tc.change(e, e.user(model.RoleAdmin, "boss@example.tg"), u); err != nil {
				t.Fatal(err)
			}
			if r := c.api("GET", "/api/v1/contacts", tok, ""); r.StatusCode != tc.status {
				t.Fatalf("token of a user %s: %d, want %d", tc.name, r.StatusCode, tc.status)
			}
		})
	}
}

// TestOpenAPIMatchesRoutes keeps /api/v1/openapi.yaml and the router in step: every API
// route is documented and every documented operation exists.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t, "sqlite")
	r := e.client().get("/api/v1/openapi.yaml")
	expect(t, r, http.StatusOK, "openapi: 3")
	documented := map[string]bool{}
	var path string
	pathRe := regexp.MustCompile(`^  (/[^:]*):\s*$`)
	opRe := regexp.MustCompile(`^    (get|post|put|patch|delete):\s*$`)
	for _, line := range strings.Split(r.body, "\n") {
		if m := pathRe.FindStringSubmatch(line); m != nil {
			path = m[1]
		} else if m := opRe.FindStringSubmatch(line); m != nil && path != "" {
			documented[strings.ToUpper(m[1])+" /api/v1"+path] = true
		}
	}
	routed := map[string]bool{}
	echoE, err := web.New(web.Deps{App: e.app, Config: e.cfg, I18n: e.app.I18n, Log: e.app.Log})
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`:([a-z_]+)`)
	for _, rt := range echoE.Routes() {
		if !strings.HasPrefix(rt.Path, "/api/v1/") || rt.Path == "/api/v1/openapi.yaml" || strings.HasSuffix(rt.Path, "*") || rt.Method == "echo_route_not_found" {
			continue
		}
		routed[rt.Method+" "+param.ReplaceAllString(rt.Path, "{$1}")] = true
	}
	var missing, extra []string
	for k := range routed {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !routed[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 || len(routed) == 0 {
		t.Fatalf("openapi.yaml out of step with the router\nundocumented routes: %v\ndocumented but not routed: %v", missing, extra)
	}
}

// TestAPIEventPatchIsWhole: a PATCH whose status change is refused changes nothing,
// not even the fields sent with it.
func TestAPIEventPatchIsWhole(t *testing.T) {
	e := newEnv(t, "sqlite")
	ctx := context.Background()
	ev := e.regEvent("Session archivée", 0, model.ModeOpen)
	if _, err := e.app.SetEventStatus(ctx, app.Actor{Name: "t"}, ev.ID, model.EventArchived); err != nil {
		t.Fatal(err)
	}
	r := e.client().api("PATCH", "/api/v1/events/"+itoa(ev.ID), e.token(model.RoleOrganizer), `{"title":"Autre titre","status":"published"}`)
	if r.StatusCode != http.StatusConflict {
		t.Fatalf("PATCH: %d %s", r.StatusCode, r.body)
	}
	if got, err := e.app.Store.FindEventByID(ctx, ev.ID); err != nil || got.Title != "Session archivée" {
		t.Fatalf("the title changed although the request was refused: %q %v", got.Title, err)
	}
}
