package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"relais/internal/app"
	"relais/internal/model"
)

// registrationFormFields are the fixed fields of the public registration form.
var registrationFormFields = []string{"first_name", "last_name", "email", "phone", "outlet", "blog_url", "audience", "city"}

// honeypotField is the registration form's hidden trap for robots. Its name means
// nothing to a browser's autofill: it was "nickname", a field Chrome may fill in whatever
// autocomplete says, and a real person's registration would have been dropped silently.
const honeypotField = "relais_check"

// bindRegistration reads the registration form (the same for the public page, the
// invitation page, the ticket page and the organizer's "add by hand").
func bindRegistration(c echo.Context, questions []model.Question) (app.RegistrationInput, map[string]string) {
	vals := map[string]string{}
	for _, f := range registrationFormFields {
		vals[f] = c.FormValue(f)
	}
	in := app.RegistrationInput{ContactInput: app.ContactInput{FirstName: vals["first_name"], LastName: vals["last_name"],
		Email: vals["email"], Phone: vals["phone"], Outlet: vals["outlet"], BlogURL: vals["blog_url"],
		Audience: vals["audience"], City: vals["city"]},
		Answers: map[int64][]string{}, Consent: c.FormValue("consent") == "yes", Honeypot: c.FormValue(honeypotField),
		Lang: langOf(c)}
	for _, p := range model.Platforms {
		h := c.FormValue("channel_" + p)
		vals["channel_"+p] = h
		if strings.TrimSpace(h) != "" {
			in.Channels = append(in.Channels, model.ContactChannel{Platform: p, Handle: h})
		}
	}
	form, _ := c.FormParams()
	for _, q := range questions {
		key := fmt.Sprintf("q%d", q.ID)
		in.Answers[q.ID] = form[key]
		vals[key] = strings.Join(form[key], "\n")
	}
	if in.Consent {
		vals["consent"] = "yes"
	}
	return in, vals
}

// registrationPage is the data the public event page needs for its form.
func (s *Server) registrationPage(c echo.Context, ev *model.Event, vals map[string]string, ferr *model.Error) (*Page, error) {
	ctx := c.Request().Context()
	p := s.page(c, ev.Title)
	p.In(ev.Timezone)
	agenda, err := s.app.Store.ListAgenda(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	docs, err := s.app.Store.ListDocuments(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	questions, err := s.app.Store.ListQuestions(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	p.Data["Event"] = ev
	p.Data["Agenda"] = agenda
	p.Data["Documents"] = docs
	p.Data["Questions"] = questions
	p.Data["Platforms"] = model.Platforms
	p.Data["State"] = s.app.RegistrationState(ev)
	if ev.Capacity > 0 {
		n, err := s.app.Store.CountConfirmed(ctx, ev.ID)
		if err != nil {
			return nil, err
		}
		p.Data["Full"] = n >= int64(ev.Capacity)
		p.Data["SeatsLeft"] = int(int64(ev.Capacity) - n)
	}
	if vals != nil {
		p.Form.Values = vals
	}
	if ferr != nil {
		p.Form.Errors = ferr.Fields
		p.Form.Error = p.T(ferr.Message)
	}
	pageURL := s.eventURL(ev)
	p.Data["URL"] = pageURL
	p.Data["WhatsApp"] = "https://wa.me/?text=" + url.QueryEscape(ev.Title+" — "+p.Range(ev.StartsAt, ev.EndsAt)+" "+pageURL)
	desc := ev.Summary
	if desc == "" {
		desc = ev.Theme
	}
	// The preview WhatsApp shows: when, where, what (an empty part is left out).
	preview := p.Range(ev.StartsAt, ev.EndsAt)
	if ev.VenueName != "" {
		preview += " · " + ev.VenueName
	}
	if desc != "" {
		preview += ". " + desc
	}
	// No og:image: Relais ships no sharing picture, and one that answers 404 leaves
	// WhatsApp and Facebook previews with a broken image.
	p.Meta = map[string]string{
		"og:type": "website", "og:title": ev.Title, "og:url": pageURL, "og:description": preview,
		"twitter:card": "summary", "description": desc,
	}
	if !ev.IsPublic() {
		p.NoIndex = true
	}
	return p, nil
}

// handleRegister records a registration from the public form. Field errors re-render
// the form with the values kept (422); success goes to the ticket page (303), or for an
// address already known to the neutral page (handleRegistered).
func (s *Server) handleRegister(c echo.Context) error {
	ctx := c.Request().Context()
	ev, questions, err := s.registrationForm(c)
	if err != nil {
		return err
	}
	in, vals := bindRegistration(c, questions)
	if err := s.limitForm(c); err != nil {
		if c.Get(formRateFlood) != nil {
			return err
		}
		// Many people may share an address (a venue's Wi-Fi, a mobile operator's): the
		// one over the limit gets the form back as typed, with the reason.
		return s.registrationRetry(c, ev, vals, err)
	}
	if in.Honeypot != "" {
		// A robot filled the hidden field: answer as if all went well, record nothing.
		return s.redirect(c, "/e/"+ev.Slug+"/inscrit")
	}
	res, err := s.app.RegisterFor(ctx, ev, questions, in)
	if me, ok := err.(*model.Error); ok && me.Code == model.EUnavailable {
		return s.registrationRetry(c, ev, vals, err)
	} else if ok && me.Code == model.EInvalid {
		p, perr := s.registrationPage(c, ev, vals, me)
		if perr != nil {
			return perr
		}
		return s.render(c, http.StatusUnprocessableEntity, "event", p)
	} else if ok && me.Code == model.EConflict || ok && me.Code == model.EForbidden {
		// Closed, not yet open, invite-only: show the page with the reason.
		p, perr := s.registrationPage(c, ev, vals, nil)
		if perr != nil {
			return perr
		}
		p.Form.Error = registrationRefusal(p, ev, me)
		return s.render(c, http.StatusConflict, "event", p)
	} else if err != nil {
		return err
	}
	if res.Duplicate || res.Known {
		// The ticket page shows and edits the contact's details: for an address the
		// directory knew, only its owner gets the link, by email.
		return s.redirect(c, "/e/"+ev.Slug+"/inscrit")
	}
	return s.redirect(c, "/t/"+res.Registration.ManageToken)
}

// registrationRetry shows the event page again with the form as it was posted and the
// reason it could not be taken now (rate limited, or too busy): nothing typed is lost.
func (s *Server) registrationRetry(c echo.Context, ev *model.Event, vals map[string]string, err error) error {
	me, ok := err.(*model.Error)
	if !ok {
		return err
	}
	p, perr := s.registrationPage(c, ev, vals, nil)
	if perr != nil {
		return perr
	}
	p.Form.Error = p.T(me.Message)
	if me.Code == model.EUnavailable {
		c.Response().Header().Set("Retry-After", "5")
	}
	return s.render(c, codeStatus[me.Code], "event", p)
}

// handleRegistered is the neutral page after a registration whose ticket goes by email
// only (a duplicate, or an address the directory knew): it never says which.
func (s *Server) handleRegistered(c echo.Context) error {
	ev, err := s.publicEvent(c)
	if err != nil {
		return err
	}
	p := s.page(c, ev.Title)
	p.NoIndex = true
	p.Data["Event"] = ev
	return s.render(c, http.StatusOK, "registered", p)
}

func urlEscape(s string) string { return url.QueryEscape(s) }

// eventURL is the public page of an event, absolute, for sharing. base_url may end
// with a slash ("https://relais.example.tg/"): a doubled one made a link that is 404.
func (s *Server) eventURL(ev *model.Event) string {
	return strings.TrimRight(s.cfg.BaseURL, "/") + "/e/" + ev.Slug
}

// registrationRefusal is the text of a refused registration (closed, not yet open,
// invite-only): the opening date goes into the message that names it.
func registrationRefusal(p *Page, ev *model.Event, me *model.Error) string {
	if ev.RegistrationOpensAt != nil {
		return p.T(me.Message, "Date", p.DateTime(*ev.RegistrationOpensAt))
	}
	return p.T(me.Message)
}

// regFormTTL bounds how long the registration form's event and questions, once read,
// are used for the registrations posted to it. A change made on this instance takes
// effect at once (purgePagesOnWrite); made on another, within this delay, as for the
// public pages. Seats are always counted in the registration's transaction.
const regFormTTL = pageCacheTTL

// regFormCache keeps, per event slug, what a registration is checked against: during
// a burst, reading them for every post cost two database round trips of nine.
type regFormCache struct {
	mu  sync.Mutex
	m   map[string]regForm
	gen uint64 // bumped by each purge: a form read before it is not kept
}

type regForm struct {
	ev        model.Event
	questions []model.Question
	until     time.Time
}

// registrationForm returns the event of the posted form, with its questions, as
// publicEvent would (drafts only for organizers).
func (s *Server) registrationForm(c echo.Context) (*model.Event, []model.Question, error) {
	slug, now := c.Param("slug"), time.Now()
	s.regForms.mu.Lock()
	f, ok := s.regForms.m[slug]
	gen := s.regForms.gen
	s.regForms.mu.Unlock()
	if !ok || !now.Before(f.until) {
		ev, err := s.app.Store.FindEventBySlug(c.Request().Context(), slug)
		if err != nil {
			return nil, nil, err
		}
		qs, err := s.app.Store.ListQuestions(c.Request().Context(), ev.ID)
		if err != nil {
			return nil, nil, err
		}
		f = regForm{ev: *ev, questions: qs, until: now.Add(regFormTTL)}
		s.regForms.mu.Lock()
		if s.regForms.gen == gen { // else an edit came while this was read: it may be older
			if s.regForms.m == nil || len(s.regForms.m) >= 1024 {
				s.regForms.m = map[string]regForm{}
			}
			s.regForms.m[slug] = f
		}
		s.regForms.mu.Unlock()
	}
	ev := f.ev // each request its own copy; the questions are only read
	if !ev.IsPublic() {
		if u := currentUser(c); u == nil || !u.Role.AtLeast(model.RoleOrganizer) {
			return nil, nil, model.ErrNotFound
		}
	}
	return &ev, f.questions, nil
}

// purge forgets every form: something was written that may have changed one.
func (fc *regFormCache) purge() {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.m = nil
	fc.gen++
}
