package model

import "time"

// Contact is one person of the blogger directory, shared by every event.
type Contact struct {
	ID               int64            `json:"id"`
	Email            string           `json:"email"`
	FirstName        string           `json:"first_name"`
	LastName         string           `json:"last_name"`
	Phone            string           `json:"phone"`
	Outlet           string           `json:"outlet"`
	BlogURL          string           `json:"blog_url"`
	City             string           `json:"city"`
	Country          string           `json:"country"`
	Lang             string           `json:"language"`
	Audience         int              `json:"audience"`
	Notes            string           `json:"notes"`
	ConsentAt        *time.Time       `json:"consent_at"`
	ConsentSource    string           `json:"consent_source"`
	UnsubscribedAt   *time.Time       `json:"unsubscribed_at"`
	UnsubscribeToken string           `json:"-"`
	ErasedAt         *time.Time       `json:"erased_at"`
	CreatedAt        time.Time        `json:"created_at"`
	UpdatedAt        time.Time        `json:"updated_at"`
	SearchText       string           `json:"-"` // see RefreshSearch
	SortName         string           `json:"-"`
	Channels         []ContactChannel `json:"channels" gorm:"-"`
	Tags             []string         `json:"tags" gorm:"-"`
}

// Name is the contact's full name.
func (c *Contact) Name() string {
	switch {
	case c.FirstName == "":
		return c.LastName
	case c.LastName == "":
		return c.FirstName
	}
	return c.FirstName + " " + c.LastName
}

// Platforms a blogger may publish on.
var Platforms = []string{"blog", "facebook", "x", "instagram", "tiktok", "youtube", "linkedin", "whatsapp", "other"}

// ValidPlatform reports whether p is a known platform.
func ValidPlatform(p string) bool {
	for _, q := range Platforms {
		if p == q {
			return true
		}
	}
	return false
}

// ContactChannel is where a contact publishes.
type ContactChannel struct {
	ID        int64  `json:"id"`
	ContactID int64  `json:"-"`
	Platform  string `json:"platform"`
	Handle    string `json:"handle"`
	URL       string `json:"url"`
	Followers int    `json:"followers"`
}

// ContactTag labels a contact ("tech", "Kara", "influenceur").
type ContactTag struct {
	ContactID int64  `gorm:"primaryKey"`
	Tag       string `gorm:"primaryKey"`
}
