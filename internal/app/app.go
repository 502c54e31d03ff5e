// Package app holds Relais' use cases. It validates input, applies the rules inside
// store transactions, queues emails in the outbox and records the audit log. It returns
// *model.Error values for anything a user may cause.
package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"relais/internal/config"
	"relais/internal/i18n"
	"relais/internal/mail"
	"relais/internal/model"
	"relais/internal/store"
)

// App is the application layer; it is safe for concurrent use.
type App struct {
	Store  *store.Store
	Config config.Config
	Log    *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Token returns a new random token; tests may replace it.
	Token func() string
	// Kick wakes the mail worker after mail was queued; may be nil.
	Kick func()
	// MailLag says how far behind the mail worker is (mail.Worker.Lag); may be nil.
	MailLag func() time.Duration
	// Mail renders emails; I18n translates them.
	Mail *mail.Renderer
	I18n *i18n.Bundle

	settings   settingsCache
	door       doorState                 // the check-in API's cached door links and events, queued admissions (checkin_fast.go)
	apiTokens  credCache[cachedAPIToken] // API tokens read lately, by their SHA-256 (UserForAPIToken)
	regTurns   *turns                    // registrations written at once, fewer while the mail is late (RegisterFor)
	regWrites  writeQueue                // on SQLite, registrations waiting for the write connection (RegisterFor)
	ics        icsCache                  // each event's calendar file (EventICS)
	regFast    regFastCache              // registration emails rendered with markers (registration_fast.go)
	dummy      sync.Once
	dummyValue string
}

// New builds the application layer.
func New(st *store.Store, cfg config.Config, log *slog.Logger) *App {
	driver := ""
	if st != nil {
		driver = st.Driver
	}
	a := &App{Store: st, Config: cfg, Log: log, Now: store.Now, Token: NewToken, regWrites: writeQueue{plain: true}}
	a.regTurns = newTurns(driver, a.mailLag)
	return a
}

// NewToken returns 192 random bits, URL-safe.
func NewToken() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns the hex SHA-256 of a token, which is what is stored for tokens
// that never need to be shown again.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Actor is who performs an action, for the audit log.
type Actor struct {
	UserID *int64
	Name   string
}

// UserActor makes an Actor of a staff user.
func UserActor(u *model.User) Actor {
	if u == nil {
		return Actor{Name: "system"}
	}
	id := u.ID
	return Actor{UserID: &id, Name: u.Name}
}

func (a *App) audit(ctx context.Context, st *store.Store, actor Actor, action, objType string, objID int64, eventID *int64, detail string) {
	err := st.AddAudit(ctx, &model.AuditEntry{ActorID: actor.UserID, ActorName: actor.Name, Action: action,
		ObjectType: objType, ObjectID: objID, EventID: eventID, Detail: detail})
	if err != nil {
		a.Log.Error("audit", "action", action, "err", err)
	}
}

func (a *App) kick() {
	if a.Kick != nil {
		a.Kick()
	}
}

// SecretKey returns the configured secret key, or the one kept in the database,
// generating it on first use so that every instance shares it.
func (a *App) SecretKey(ctx context.Context) (string, error) {
	if a.Config.SecretKey != "" {
		return a.Config.SecretKey, nil
	}
	return a.Store.GetOrInitValue(ctx, "secret_key", func() (string, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return hex.EncodeToString(b), err
	})
}

// settingsTTL bounds how long an instance serves settings from memory: pages read them on
// every request, and a change made on another instance shows here within this delay.
const settingsTTL = 5 * time.Second

type settingsCache struct {
	mu      sync.Mutex
	value   model.Settings
	expires time.Time
}

// Settings returns a copy of the organization settings, falling back to the configuration.
func (a *App) Settings(ctx context.Context) (*model.Settings, error) {
	c := &a.settings
	c.mu.Lock()
	if time.Now().Before(c.expires) {
		v := c.value
		c.mu.Unlock()
		return &v, nil
	}
	c.mu.Unlock()
	st, err := a.Store.GetSettings(ctx, model.Settings{
		Name: "Relais", DefaultLang: a.Config.Lang, DefaultTimezone: a.Config.Timezone,
	})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.value, c.expires = *st, time.Now().Add(settingsTTL)
	c.mu.Unlock()
	return st, nil
}

// SaveSettings stores the organization settings (validated by the caller's form).
func (a *App) SaveSettings(ctx context.Context, actor Actor, st *model.Settings) error {
	if err := a.Store.SaveSettings(ctx, st); err != nil {
		return err
	}
	a.settings.mu.Lock()
	a.settings.expires = time.Time{}
	a.settings.mu.Unlock()
	a.audit(ctx, a.Store, actor, "settings.update", "settings", 1, nil, "")
	return nil
}
