package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

// inFlight is a request of c that has loaded its session and will save it when it ends,
// as scs does with an idle timeout.
type inFlight struct {
	e     *env
	token string
	data  []byte
}

func loadInFlight(t *testing.T, e *env, c *client) *inFlight {
	t.Helper()
	u, _ := url.Parse(e.srv.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == "relais_session" {
			data, ok, err := e.app.Store.Sessions(authzUserIDOf).FindCtx(context.Background(), ck.Value)
			if err != nil || !ok {
				t.Fatalf("load session: %v %v", ok, err)
			}
			return &inFlight{e: e, token: ck.Value, data: data}
		}
	}
	t.Fatal("the client has no session")
	return nil
}

func (r *inFlight) save(t *testing.T) {
	t.Helper()
	if err := r.e.app.Store.Sessions(authzUserIDOf).CommitCtx(context.Background(), r.token, r.data,
		time.Now().Add(r.e.cfg.SessionIdle)); err != nil {
		t.Fatal(err)
	}
}

// sessionsUser is a signed-in organizer, a thief holding a copy of one of its sessions
// and an API token of the organizer that works.
func sessionsUser(t *testing.T, e *env) (owner, thief *client, apiToken string) {
	t.Helper()
	owner = e.login(model.RoleOrganizer)
	thief = e.client()
	expectLogin(t, thief, "organizer@example.tg", "correct horse battery")
	u, err := e.app.Store.FindUserByEmail(context.Background(), "organizer@example.tg")
	if err != nil {
		t.Fatal(err)
	}
	apiToken, _, err = e.app.CreateAPIToken(context.Background(), app.Actor{Name: "test"}, u.ID, "script")
	if err != nil {
		t.Fatal(err)
	}
	expect(t, thief.get("/admin"), http.StatusOK)
	expect(t, e.client().api("GET", "/api/v1/events", apiToken, ""), http.StatusOK)
	return owner, thief, apiToken
}

// expectAccessEnded checks that neither the thief's session, even saved by a request
// that was in flight, nor the API token works any more, and that the owner may sign in.
func expectAccessEnded(t *testing.T, e *env, thief *client, apiToken, password string) {
	t.Helper()
	if r := thief.get("/admin"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("the stolen session works: %d", r.StatusCode)
	}
	expect(t, e.client().api("GET", "/api/v1/events", apiToken, ""), http.StatusUnauthorized)
	again := e.client()
	expectLogin(t, again, "organizer@example.tg", password)
	expect(t, again.get("/admin"), http.StatusOK)
}

func TestSignOutEverywhereEndsSessionsInFlightAndAPITokens(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			owner, thief, apiToken := sessionsUser(t, e)
			expect(t, owner.get("/admin/account"), http.StatusOK, "vos jetons d’API sont révoqués du même coup")
			owner.lang = "en"
			expect(t, owner.get("/admin/account"), http.StatusOK, "your API tokens are revoked as well")

			req := loadInFlight(t, e, thief)
			if r := owner.post("/admin/account", "/admin/account/sign-out-everywhere", nil); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign out everywhere: %d", r.StatusCode)
			}
			req.save(t)
			expectAccessEnded(t, e, thief, apiToken, "correct horse battery")
		})
	}
}

func TestPasswordResetEndsSessionsInFlightAndAPITokens(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			_, thief, apiToken := sessionsUser(t, e)
			c := e.client()
			expect(t, c.post("/password/forgot", "/password/forgot", url.Values{"email": {"organizer@example.tg"}}), http.StatusOK)
			msgs, _, err := e.app.Store.ListMessages(ctx, store.MessageFilter{Query: "organizer@example.tg", Limit: 10})
			if err != nil || len(msgs) != 1 || msgs[0].Kind != "password_reset" {
				t.Fatalf("messages: %+v %v", msgs, err)
			}
			full, _ := e.app.Store.FindMessage(ctx, msgs[0].ID)
			tok := regexp.MustCompile(`/password/reset\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(full.TextBody)
			if tok == nil {
				t.Fatalf("no link in %q", full.TextBody)
			}

			req := loadInFlight(t, e, thief)
			form := "/password/reset?token=" + tok[1]
			r := c.post(form, "/password/reset", url.Values{"token": {tok[1]}, "password": {"un nouveau mot de passe solide"}})
			expect(t, r, http.StatusOK, "vos sessions sont fermées et vos jetons d’API révoqués")
			req.save(t)
			expectAccessEnded(t, e, thief, apiToken, "un nouveau mot de passe solide")
		})
	}
}
