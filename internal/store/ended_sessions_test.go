package store_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
)

// sessData is session data as the tests store it: "user=ID", or anything for a visitor.
func sessData(userID int64) []byte { return fmt.Appendf(nil, "user=%d", userID) }

func sessUserIDOf(b []byte) *int64 {
	v, ok := strings.CutPrefix(string(b), "user=")
	if !ok {
		return nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil
	}
	return &id
}

// sessStore is a store on a fresh database of the driver, with a clock the test sets,
// two users and their session store.
func sessStore(t *testing.T, driver string) (*store.Store, *store.SessionStore, *time.Time, []*model.User) {
	t.Helper()
	s := storetest.Open(t, driver)
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	var users []*model.User
	for _, email := range []string{"victim@example.tg", "other@example.tg"} {
		u := &model.User{Email: email, Name: email, PasswordHash: "x", Role: model.RoleOrganizer, Lang: "fr"}
		if err := s.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	return s, s.Sessions(sessUserIDOf), &now, users
}

func sessFound(t *testing.T, ss *store.SessionStore, token string) bool {
	t.Helper()
	_, ok, err := ss.FindCtx(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func sessCommit(t *testing.T, ss *store.SessionStore, token string, data []byte, expiry time.Time) {
	t.Helper()
	if err := ss.CommitCtx(context.Background(), token, data, expiry); err != nil {
		t.Fatalf("commit %s: %v", token, err)
	}
}

// A request that loaded a session before its user's access ended saves it when it ends
// (scs does with an idle timeout): the session must stay ended, and the API tokens
// revoked, while other users keep theirs and the user may sign in again.
func TestEndUserAccessSurvivesARequestInFlight(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s, ss, now, users := sessStore(t, driver)
			victim, other := users[0], users[1]
			exp := now.Add(2 * time.Hour)
			sessCommit(t, ss, "stolen", sessData(victim.ID), exp)
			sessCommit(t, ss, "laptop", sessData(victim.ID), exp)
			sessCommit(t, ss, "bystander", sessData(other.ID), exp)
			for _, u := range users {
				if err := s.CreateAPIToken(ctx, &model.APIToken{UserID: u.ID, Name: "script", TokenHash: fmt.Sprintf("%064d", u.ID)}); err != nil {
					t.Fatal(err)
				}
			}

			inFlight, ok, err := ss.FindCtx(ctx, "stolen")
			if err != nil || !ok {
				t.Fatalf("load: %v %v", ok, err)
			}
			if err := s.EndUserAccess(ctx, victim.ID, *now); err != nil {
				t.Fatal(err)
			}
			*now = now.Add(time.Second)
			sessCommit(t, ss, "stolen", inFlight, now.Add(2*time.Hour))

			for token, want := range map[string]bool{"stolen": false, "laptop": false, "bystander": true} {
				if got := sessFound(t, ss, token); got != want {
					t.Errorf("session %s found: %v, want %v", token, got, want)
				}
			}
			sessCommit(t, ss, "signed-in-again", sessData(victim.ID), now.Add(2*time.Hour))
			if !sessFound(t, ss, "signed-in-again") {
				t.Error("a sign-in after the end does not work")
			}
			for _, u := range users {
				ts, err := s.ListAPITokens(ctx, u.ID)
				if err != nil || len(ts) != 1 {
					t.Fatalf("tokens of %s: %v %v", u.Email, ts, err)
				}
				if revoked := ts[0].RevokedAt != nil; revoked != (u.ID == victim.ID) {
					t.Errorf("token of %s revoked: %v", u.Email, revoked)
				}
			}
		})
	}
}

// The same holds for one session signed out (scs deletes it), and the ended row goes
// once no request can still be saving it.
func TestSignedOutSessionStaysSignedOut(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			s, ss, now, users := sessStore(t, driver)
			sessCommit(t, ss, "tok", sessData(users[0].ID), now.Add(2*time.Hour))
			inFlight, _, _ := ss.FindCtx(ctx, "tok")
			if err := ss.DeleteCtx(ctx, "tok"); err != nil {
				t.Fatal(err)
			}
			sessCommit(t, ss, "tok", inFlight, now.Add(2*time.Hour))
			if sessFound(t, ss, "tok") {
				t.Fatal("the signed-out session works again")
			}

			rows := func() int64 {
				var n int64
				if err := s.DB().Table("sessions").Where("token = ?", "tok").Count(&n).Error; err != nil {
					t.Fatal(err)
				}
				return n
			}
			*now = now.Add(59 * time.Minute)
			if err := s.DeleteExpiredSessions(ctx); err != nil {
				t.Fatal(err)
			}
			if rows() != 1 {
				t.Fatal("the ended session's row went while a request could still save it")
			}
			*now = now.Add(2 * time.Minute)
			if err := s.DeleteExpiredSessions(ctx); err != nil {
				t.Fatal(err)
			}
			if rows() != 0 {
				t.Fatal("the ended session's row stays")
			}
		})
	}
}
