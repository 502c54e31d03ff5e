// Package model holds Relais' domain types, their states and validation rules.
// It imports only the standard library; struct tags describe columns for the store.
package model

import "time"

// Role is what a staff account may do.
type Role string

const (
	RoleAdmin     Role = "admin"
	RoleOrganizer Role = "organizer"
	RoleDoor      Role = "door"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleOrganizer || r == RoleDoor }

// Rank orders roles so that a higher rank includes the rights of the lower ones.
func (r Role) Rank() int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleOrganizer:
		return 2
	case RoleDoor:
		return 1
	}
	return 0
}

// AtLeast reports whether r includes the rights of min.
func (r Role) AtLeast(min Role) bool { return r.Rank() >= min.Rank() && r.Rank() > 0 }

// User is a staff account.
type User struct {
	ID           int64      `json:"id"`
	Email        string     `json:"email"`
	Name         string     `json:"name"`
	PasswordHash string     `json:"-"`
	Role         Role       `json:"role"`
	Lang         string     `json:"lang"`
	DisabledAt   *time.Time `json:"disabled_at"`
	LastLoginAt  *time.Time `json:"last_login_at"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

// Active reports whether the account may sign in.
func (u *User) Active() bool { return u != nil && u.DisabledAt == nil }

// APIToken is a named, revocable bearer token for scripts. Only its hash is stored.
type APIToken struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	Name       string     `json:"name"`
	TokenHash  string     `json:"-"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

// Settings is the organization's single row of settings.
type Settings struct {
	ID                int64     `json:"-"`
	Name              string    `json:"name"`
	About             string    `json:"about"`
	Website           string    `json:"website"`
	Address           string    `json:"address"`
	SenderName        string    `json:"sender_name"`
	SenderEmail       string    `json:"sender_email"`
	ReplyTo           string    `json:"reply_to"`
	PressContactName  string    `json:"press_contact_name"`
	PressContactEmail string    `json:"press_contact_email"`
	PressContactPhone string    `json:"press_contact_phone"`
	DefaultLang       string    `json:"default_lang"`
	DefaultTimezone   string    `json:"default_timezone"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// AuditEntry records a staff action.
type AuditEntry struct {
	ID         int64     `json:"id"`
	ActorID    *int64    `json:"actor_id"`
	ActorName  string    `json:"actor_name"`
	Action     string    `json:"action"`
	ObjectType string    `json:"object_type"`
	ObjectID   int64     `json:"object_id"`
	EventID    *int64    `json:"event_id"`
	Detail     string    `json:"detail"`
	CreatedAt  time.Time `json:"created_at"`
}
