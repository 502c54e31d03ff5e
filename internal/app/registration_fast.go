package app

import (
	"context"
	"crypto/rand"
	"strings"
	"sync"
	"time"

	"relais/internal/model"
	"relais/internal/ticket"
)

// Registration emails written from one rendering. Rendering a confirmation from the
// templates was about a tenth of a registration's CPU, and its bodies, some 10 KB,
// were written with it on the single SQLite writer. As a campaign does
// (campaign_fast.go), each email of an event in a language and of a kind is rendered
// once, for a made-up registrant whose values are unique markers, and each person's
// message is that rendering with their values where the markers came out; the bodies
// are stored once (model.BodyTemplate) and each message keeps only its values. The
// campaign's rules hold:
//
//   - a value goes in only when it is plain: both names as campFastNameOK, the ticket's
//     token and its reference as campFastTokenOK. Anyone else (an empty name, a name
//     with other characters) gets the ordinary rendering;
//   - each rendering is made twice, with the markers and with the markers followed by
//     samples of every character a value may hold, and must differ only there, where
//     each sample comes out as is or HTML-escaped;
//   - the first message written from a rendering, and every campFastCheckEvery-th after,
//     is compared with the ordinary rendering: a difference logs a warning and that email
//     goes back to the ordinary rendering.
//
// A rendering serves only the event and the settings it was made from, compared field
// by field: any change to either makes another.

// The slots of a registration email: the campaign's, the fourth holding the reference.
const regFastReference = campFastUnsub

// regFastSamples follow the markers in the second rendering.
var regFastSamples = [campFastSlots]string{
	campFastFirst:    campFastSamples[campFastFirst],
	campFastLast:     campFastSamples[campFastLast],
	campFastToken:    "_-A_z09-",
	regFastReference: "-AZ09",
}

// regFastID names one email: an event's, in a language, of a kind (with its QR code or not).
type regFastID struct {
	event      int64
	lang, kind string
	qr         bool
}

// regFastSig is what a registration email is rendered from, but the person: the event
// (its pointers as values) and the organization's settings.
type regFastSig struct {
	ev                  model.Event // its pointers cleared
	opensAt, closesAt   time.Time
	hasOpens, hasCloses bool
	createdBy           int64
	settings            model.Settings
	baseURL, from       string
}

func newRegFastSig(ev *model.Event, settings *model.Settings, baseURL, from string) regFastSig {
	s := regFastSig{ev: *ev, settings: *settings, baseURL: baseURL, from: from}
	s.ev.RegistrationOpensAt, s.ev.RegistrationClosesAt, s.ev.CreatedBy = nil, nil, nil
	if ev.RegistrationOpensAt != nil {
		s.opensAt, s.hasOpens = *ev.RegistrationOpensAt, true
	}
	if ev.RegistrationClosesAt != nil {
		s.closesAt, s.hasCloses = *ev.RegistrationClosesAt, true
	}
	if ev.CreatedBy != nil {
		s.createdBy = *ev.CreatedBy
	}
	return s
}

// regFastEntry is one email rendered with markers.
type regFastEntry struct {
	sig   regFastSig
	ready chan struct{}     // closed once t is set
	t     *campFastTemplate // nil: this email is rendered the ordinary way
	uses  int
}

// regFastCache keeps the renderings of an App.
type regFastCache struct {
	mu     sync.Mutex
	marker string
	m      map[regFastID]*regFastEntry
}

// regFastMax bounds the renderings kept; past it, the cache starts over.
const regFastMax = 256

// registrationMessage builds the message of registrationEmail(kind, ev, c, r, key):
// written from the email's rendering with markers when it can be, else rendered the
// ordinary way. It may write (a rendering's bodies): never inside a transaction, where
// on SQLite it would wait for its own write connection.
func (a *App) registrationMessage(ctx context.Context, kind string, ev *model.Event, c *model.Contact,
	r *model.Registration, key string) (*model.Message, error) {
	em := a.registrationEmail(kind, ev, c, r, key)
	m, err := a.regFastMessage(ctx, em, kind, ev, c, r)
	if m != nil || err != nil {
		return m, err
	}
	return a.buildMessage(ctx, em)
}

// regFastMessage writes em from its rendering with markers, or returns nil when the
// person's values or the email do not allow it.
func (a *App) regFastMessage(ctx context.Context, em Email, kind string, ev *model.Event,
	c *model.Contact, r *model.Registration) (*model.Message, error) {
	var vals [campFastSlots]string
	vals[campFastFirst], vals[campFastLast] = c.FirstName, c.LastName
	vals[campFastToken], vals[regFastReference] = r.ManageToken, ticket.FormatReference(r.Reference)
	if r.RejectReason != "" || !campFastNameOK(vals[campFastFirst], true) || !campFastNameOK(vals[campFastLast], true) ||
		!campFastTokenOK(vals[campFastToken], false) || !campFastTokenOK(vals[regFastReference], false) {
		return nil, nil // the reason given for a rejection is free text, with no slot
	}
	settings, err := a.Settings(ctx)
	if err != nil {
		return nil, err
	}
	id := regFastID{event: ev.ID, lang: em.Lang, kind: kind, qr: em.Data["QR"] != nil}
	sig := newRegFastSig(ev, settings, a.Config.BaseURL, a.Config.MailFrom)
	cache := &a.regFast
	cache.mu.Lock()
	if cache.marker == "" {
		cache.marker = "Qz" + strings.ToLower(rand.Text()[:12])
	}
	marker := cache.marker
	e := cache.m[id]
	cache.mu.Unlock()
	if e == nil || e.sig != sig {
		// One request renders it; the others of a burst wait for it.
		cache.mu.Lock()
		if e = cache.m[id]; e == nil || e.sig != sig {
			e = &regFastEntry{sig: sig, ready: make(chan struct{})}
			if cache.m == nil || len(cache.m) >= regFastMax {
				cache.m = map[regFastID]*regFastEntry{}
			}
			cache.m[id] = e
			cache.mu.Unlock()
			t, err := a.regFastCompile(ctx, marker, id, ev, settings, r)
			cache.mu.Lock()
			e.t = t
			if err != nil {
				// Rendered the ordinary way this time; the next one tries again.
				if cache.m[id] == e {
					delete(cache.m, id)
				}
				if a.Log != nil {
					a.Log.Warn("registration email: no rendering with markers", "event", ev.ID, "kind", kind, "err", err)
				}
			}
			close(e.ready)
		}
		cache.mu.Unlock()
	}
	select {
	case <-e.ready:
	default:
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	cache.mu.Lock()
	t := e.t
	e.uses++
	check := e.uses%campFastCheckEvery == 1
	cache.mu.Unlock()
	if t == nil {
		return nil, nil
	}
	m := t.fill(&vals)
	m.IdempotencyKey, m.ToEmail, m.EventID, m.ContactID = em.Key, em.ToEmail, em.EventID, em.ContactID
	m.Attachments = em.Attachments
	if check {
		slow, err := a.buildMessage(ctx, em)
		if err != nil {
			return nil, err
		}
		if !campFastSame(&m, slow) {
			if a.Log != nil {
				a.Log.Warn("registration email: the message written from markers differs from the rendered one; rendering this email one by one",
					"event", ev.ID, "kind", kind, "lang", em.Lang)
			}
			cache.mu.Lock()
			e.t = nil
			cache.mu.Unlock()
			return slow, nil
		}
	}
	return &m, nil
}

// regFastCompile renders the email id of ev with markers, from the very settings of its
// signature, stores its bodies, and returns it, or nil when values cannot be put in it as
// they are. The made-up registration has a ticket code of its own and no status or
// source: a template that came to show one of the person's other values would differ at
// the first comparison with the ordinary rendering, not copy the first person's.
func (a *App) regFastCompile(ctx context.Context, prefix string, id regFastID, ev *model.Event,
	settings *model.Settings, r *model.Registration) (*campFastTemplate, error) {
	var markers, samples [campFastSlots]string
	for i, suffix := range [campFastSlots]string{"Fa", "La", "Ta", "Ra"} {
		markers[i] = prefix + suffix
		samples[i] = markers[i] + regFastSamples[i]
	}
	probe := func(vals *[campFastSlots]string) (*model.Message, error) {
		c := &model.Contact{Email: "exemple@example.org", FirstName: vals[campFastFirst], LastName: vals[campFastLast]}
		pr := &model.Registration{EventID: ev.ID, TicketCode: prefix + "Code", Lang: r.Lang,
			ManageToken: vals[campFastToken], Reference: vals[regFastReference]}
		em := a.registrationEmail(id.kind, ev, c, pr, "")
		if (em.Data["QR"] != nil) != id.qr {
			return nil, nil
		}
		return a.buildMessageWith(em, settings)
	}
	x, err := probe(&markers)
	if x == nil || err != nil {
		return nil, err
	}
	y, err := probe(&samples)
	if y == nil || err != nil {
		return nil, err
	}
	if x.Lang != id.lang {
		return nil, nil
	}
	t := markedTemplate(prefix, x, y, &markers, &regFastSamples)
	if t == nil {
		return nil, nil
	}
	t.proto.EventID = nil
	t.body = t.bodyTemplate()
	if err := a.Store.ShareBodyTemplate(ctx, t.body); err != nil {
		return nil, err
	}
	return t, nil
}
