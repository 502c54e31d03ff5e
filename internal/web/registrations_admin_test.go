package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"relais/internal/app"
	"relais/internal/model"
	"relais/internal/store"
	"relais/internal/store/storetest"
	"relais/internal/ticket"
)

// regEvent creates a published event, a month from now, for registration tests.
func (e *env) regEvent(title string, capacity int, mode model.RegistrationMode) *model.Event {
	e.t.Helper()
	start := time.Now().UTC().Add(30 * 24 * time.Hour).Truncate(time.Hour)
	ev := &model.Event{Title: title, StartsAt: start, EndsAt: start.Add(3 * time.Hour), Timezone: "Africa/Lome",
		Capacity: capacity, RegistrationMode: mode, Status: model.EventPublished, Lang: "fr", VenueName: "Ministère"}
	if err := e.app.SaveEvent(context.Background(), app.Actor{Name: "test"}, ev); err != nil {
		e.t.Fatal(err)
	}
	return ev
}

// seed is a registration written straight to the store, so that the screens can be
// tested whatever the emails do.
type seed struct {
	First, Last, Email, Outlet string
	Status                     model.RegistrationStatus
	Source                     model.RegistrationSource
	Answers                    string
	CheckedIn                  bool
	Channels                   []model.ContactChannel
	At                         time.Time // of the status; now when zero
}

func (e *env) seed(ev *model.Event, s seed) *model.Registration {
	e.t.Helper()
	ctx := context.Background()
	c := &model.Contact{Email: s.Email, FirstName: s.First, LastName: s.Last, Outlet: s.Outlet, Lang: "fr",
		UnsubscribeToken: e.app.Token(), Channels: s.Channels, City: "Lomé", Audience: 1200, Phone: "+22890123456"}
	if err := e.app.Store.CreateContact(ctx, c); err != nil {
		e.t.Fatal(err)
	}
	if s.Source == "" {
		s.Source = model.SourceOnline
	}
	if s.Answers == "" {
		s.Answers = "{}"
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	if !s.At.IsZero() {
		now = s.At
	}
	r := &model.Registration{EventID: ev.ID, ContactID: c.ID, Status: s.Status, Source: s.Source, Lang: "fr",
		Answers: s.Answers, TicketCode: ticket.NewCode(), Reference: ticket.NewReference(), ManageToken: e.app.Token()}
	switch s.Status {
	case model.RegConfirmed:
		r.ConfirmedAt = &now
	case model.RegWaitlisted:
		r.WaitlistedAt = &now
	case model.RegCancelled:
		r.CancelledAt = &now
	}
	if s.CheckedIn {
		r.CheckedInAt, r.CheckedInBy = &now, "Entrée principale"
	}
	if err := e.app.Store.CreateRegistration(ctx, r); err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) registration(id int64) *model.Registration {
	e.t.Helper()
	r, err := e.app.Store.FindRegistration(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// messagesTo returns the kinds of the outbox messages of an event sent to an address.
func (e *env) messagesTo(ev *model.Event, email string) []string {
	e.t.Helper()
	ms, _, err := e.app.Store.ListMessages(context.Background(), store.MessageFilter{EventID: &ev.ID, Query: email})
	if err != nil {
		e.t.Fatal(err)
	}
	var kinds []string
	for _, m := range ms {
		if m.ToEmail == email {
			kinds = append(kinds, m.Kind)
		}
	}
	return kinds
}

func hasKind(kinds []string, kind string) bool {
	for _, k := range kinds {
		if k == kind {
			return true
		}
	}
	return false
}

func expectNot(t *testing.T, r *resp, absent ...string) {
	t.Helper()
	for _, s := range absent {
		if strings.Contains(r.body, s) {
			t.Fatalf("%s %s: body has %q\n%s", r.Request.Method, r.Request.URL.String(), s, snippet(r.body))
		}
	}
}

// follow reads the page a 303 points to (where the flash message is shown).
func (c *client) follow(r *resp) *resp {
	c.e.t.Helper()
	if r.StatusCode != http.StatusSeeOther {
		c.e.t.Fatalf("%s %s: status %d, want 303\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, snippet(r.body))
	}
	return c.get(r.Header.Get("Location"))
}

// untranslated finds a message id shown as text (a missing translation shows its id).
var untranslated = regexp.MustCompile(`[>"](registrations|regadmin|questions|qkind|csv|field|form|rstatus|lang|platform|error)\.[a-z_.]*[<"]`)

func TestRegistrationsListFiltersAndSearch(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ev := e.regEvent("Les blogueurs et le réseau e-Gouvernement", 30, model.ModeApproval)
			other := e.regEvent("Autre session", 0, model.ModeOpen)
			e.seed(ev, seed{First: "Afi", Last: "Mensah", Email: "afi@example.tg", Outlet: "Lomé Tech Blog", Status: model.RegConfirmed, CheckedIn: true})
			kossi := e.seed(ev, seed{First: "Kossi", Last: "Agbeko", Email: "kossi@example.tg", Outlet: "Togo Actu", Status: model.RegPending})
			e.seed(ev, seed{First: "Ama", Last: "Dzifa", Email: "ama@example.tg", Status: model.RegWaitlisted, Source: model.SourceStaff})
			e.seed(ev, seed{First: "Yao", Last: "Kpogo", Email: "yao@example.tg", Status: model.RegCancelled})
			e.seed(other, seed{First: "Mawuli", Last: "Ailleurs", Email: "mawuli@example.tg", Status: model.RegConfirmed})
			base := "/admin/events/" + itoa(ev.ID) + "/registrations"

			org := e.login(model.RoleOrganizer)
			r := org.get(base)
			expect(t, r, http.StatusOK, "Afi Mensah", "Kossi Agbeko", "Ama Dzifa", "Yao Kpogo", "4 inscriptions",
				"Confirmées : <strong>1</strong>", "À valider : <strong>1</strong>", "Arrivées : <strong>1</strong>",
				`name="ids" value="`+itoa(kossi.ID)+`"`, ticket.FormatReference(kossi.Reference), "registrations.csv?")
			expectNot(t, r, "Mawuli")
			cases := []struct {
				query         string
				want, notWant []string
			}{
				{"status=pending", []string{"Kossi Agbeko"}, []string{"Afi Mensah", "Ama Dzifa"}},
				{"q=tech", []string{"Afi Mensah"}, []string{"Kossi Agbeko"}},
				{"q=AGBEKO", []string{"Kossi Agbeko"}, []string{"Afi Mensah"}},
				{"q=ama%40example", []string{"Ama Dzifa"}, []string{"Afi Mensah"}},
				{"q=" + url.QueryEscape(strings.ToLower(ticket.FormatReference(kossi.Reference))), []string{"Kossi Agbeko"}, []string{"Afi Mensah"}},
				{"source=staff", []string{"Ama Dzifa"}, []string{"Afi Mensah", "Kossi Agbeko"}},
				{"checked=yes", []string{"Afi Mensah"}, []string{"Kossi Agbeko", "Yao Kpogo"}},
				{"checked=no&status=cancelled", []string{"Yao Kpogo"}, []string{"Afi Mensah", "Kossi Agbeko"}},
				{"q=tech&status=pending", []string{"Aucune inscription ne correspond."}, []string{"Afi Mensah"}},
			}
			for _, c := range cases {
				r := org.get(base + "?" + c.query)
				expect(t, r, http.StatusOK, c.want...)
				expectNot(t, r, c.notWant...)
			}

			// Pages of 50.
			for i := 0; i < 50; i++ {
				e.seed(ev, seed{First: "Zoé", Last: "Page" + itoa(int64(100+i)), Email: "page" + itoa(int64(i)) + "@example.tg", Status: model.RegConfirmed})
			}
			r = org.get(base)
			expect(t, r, http.StatusOK, "54 inscriptions", "Page 1 sur 2", `rel="next"`)
			if n := strings.Count(r.body, `<tr>`) - 1; n != 50 {
				t.Fatalf("first page shows %d rows", n)
			}
			r = org.get(base + "?page=2")
			expect(t, r, http.StatusOK, "Page 2 sur 2", `rel="prev"`, "Page149")
			if n := strings.Count(r.body, `<tr>`) - 1; n != 4 {
				t.Fatalf("second page shows %d rows", n)
			}

			// Organizers only.
			expect(t, e.login(model.RoleDoor).get(base), http.StatusForbidden)
			if r := e.client().get(base); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
				t.Fatalf("anonymous: %d %s", r.StatusCode, r.Header.Get("Location"))
			}
			// The event page links to the list.
			expect(t, org.get("/admin/events/"+itoa(ev.ID)), http.StatusOK, `href="`+base+`"`)

			// Every screen renders in both languages with no message id left untranslated.
			en := e.login(model.RoleOrganizer)
			en.lang = "en"
			for _, c := range []*client{org, en} {
				for _, path := range []string{base, base + "/" + itoa(kossi.ID), base + "/new", "/admin/events/" + itoa(ev.ID) + "/questions"} {
					r := c.get(path)
					expect(t, r, http.StatusOK, `lang="`+c.lang+`"`)
					if m := untranslated.FindString(r.body); m != "" {
						t.Fatalf("%s (%s): untranslated %q", path, c.lang, m)
					}
				}
			}
			expect(t, en.get(base), http.StatusOK, "Waiting list", "Attendance", "Add a registration")
		})
	}
}

func TestRegistrationDetailAndActions(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			ev := e.regEvent("Session avec validation", 3, model.ModeApproval)
			q := &model.Question{EventID: ev.ID, Label: "Quel sujet vous intéresse ?", Kind: model.QMultiChoice, Options: "Big data\nE-gouvernement\nSécurité"}
			if err := e.app.SaveQuestion(ctx, app.Actor{Name: "test"}, q); err != nil {
				t.Fatal(err)
			}
			pending := e.seed(ev, seed{First: "Kossi", Last: "Agbeko", Email: "kossi@example.tg", Status: model.RegPending,
				Answers:  `{"` + itoa(q.ID) + `":["Big data","Sécurité"]}`,
				Channels: []model.ContactChannel{{Platform: "facebook", Handle: "@kossi.blog"}}})
			refused := e.seed(ev, seed{First: "Edem", Last: "Refus", Email: "edem@example.tg", Status: model.RegPending})
			confirmed := e.seed(ev, seed{First: "Afi", Last: "Mensah", Email: "afi@example.tg", Status: model.RegConfirmed})
			e.seed(ev, seed{First: "Ablam", Last: "Deux", Email: "ablam@example.tg", Status: model.RegConfirmed})
			earlier := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
			// Yao is seeded first but has waited less than Ama: the waitlist goes by time.
			w2 := e.seed(ev, seed{First: "Yao", Last: "Second", Email: "yao@example.tg", Status: model.RegWaitlisted, At: earlier.Add(time.Minute)})
			w1 := e.seed(ev, seed{First: "Ama", Last: "Premiere", Email: "ama@example.tg", Status: model.RegWaitlisted, At: earlier})
			org := e.login(model.RoleOrganizer)
			base := "/admin/events/" + itoa(ev.ID) + "/registrations/"

			page := base + itoa(pending.ID)
			expect(t, org.get(page), http.StatusOK, "Kossi Agbeko", "kossi@example.tg", "228 90 12 34 56", "@kossi.blog",
				"Quel sujet vous intéresse ?", "Big data, Sécurité", ticket.FormatReference(pending.Reference),
				"Approuver", "Refuser la demande", "Renvoyer le billet", "Annuler cette inscription", `name="override_capacity"`)

			// Approve: pending → confirmed (a seat is free), with an email.
			r := org.post(page, page+"/approve", nil)
			expect(t, org.follow(r), http.StatusOK, "L’inscription est confirmée.")
			if got := e.registration(pending.ID).Status; got != model.RegConfirmed {
				t.Fatalf("approved: %s", got)
			}
			if kinds := e.messagesTo(ev, "kossi@example.tg"); !hasKind(kinds, "registration_confirmed") {
				t.Fatalf("approval email not queued: %v", kinds)
			}

			// Reject with a reason; a reason too long is a field error in French.
			rp := base + itoa(refused.ID)
			r = org.post(rp, rp+"/reject", url.Values{"reason": {strings.Repeat("x", 1001)}})
			expect(t, r, http.StatusUnprocessableEntity, "Ce texte est trop long.", `aria-invalid="true"`)
			r = org.post(rp, rp+"/reject", url.Values{"reason": {"Places réservées aux blogueurs de la région des Plateaux."}})
			expect(t, org.follow(r), http.StatusOK, "La demande est refusée.")
			got := e.registration(refused.ID)
			if got.Status != model.RegRejected || got.RejectReason != "Places réservées aux blogueurs de la région des Plateaux." {
				t.Fatalf("rejected: %s %q", got.Status, got.RejectReason)
			}
			if kinds := e.messagesTo(ev, "edem@example.tg"); !hasKind(kinds, "registration_rejected") {
				t.Fatalf("rejection email not queued: %v", kinds)
			}
			// A confirmed registration cannot be rejected (only cancelled): a message, not an error page.
			cp := base + itoa(confirmed.ID)
			r = org.post(cp, cp+"/reject", nil)
			expect(t, org.follow(r), http.StatusOK, "Cette inscription ne peut pas passer à ce statut.")
			if got := e.registration(confirmed.ID).Status; got != model.RegConfirmed {
				t.Fatalf("confirmed registration rejected: %s", got)
			}

			// Cancelling a confirmed registration promotes exactly one waitlisted person.
			r = org.post(cp, cp+"/cancel", nil)
			expect(t, org.follow(r), http.StatusOK, "L’inscription est annulée.")
			if got := e.registration(confirmed.ID).Status; got != model.RegCancelled {
				t.Fatalf("cancelled: %s", got)
			}
			if a, b := e.registration(w1.ID).Status, e.registration(w2.ID).Status; a != model.RegConfirmed || b != model.RegWaitlisted {
				t.Fatalf("after cancel: first waitlisted %s, second %s", a, b)
			}
			counts, _ := e.app.Store.CountRegistrations(ctx, ev.ID)
			if counts[model.RegConfirmed] != 3 || counts[model.RegWaitlisted] != 1 {
				t.Fatalf("counts after cancel: %v", counts)
			}
			if kinds := e.messagesTo(ev, "ama@example.tg"); !hasKind(kinds, "registration_promoted") {
				t.Fatalf("promotion email not queued: %v", kinds)
			}
			// The full event: confirming the remaining waitlisted person needs the override.
			wp := base + itoa(w2.ID)
			r = org.post(wp, wp+"/approve", nil)
			expect(t, org.follow(r), http.StatusOK, "La session est complète.")
			if got := e.registration(w2.ID).Status; got != model.RegWaitlisted {
				t.Fatalf("over capacity without override: %s", got)
			}
			r = org.post(wp, wp+"/approve", url.Values{"override_capacity": {"yes"}})
			expect(t, org.follow(r), http.StatusOK, "L’inscription est confirmée.")
			if got := e.registration(w2.ID).Status; got != model.RegConfirmed {
				t.Fatalf("override: %s", got)
			}

			// Resend queues one more message.
			before := len(e.messagesTo(ev, "kossi@example.tg"))
			r = org.post(page, page+"/resend", nil)
			expect(t, org.follow(r), http.StatusOK, "Le billet est renvoyé.")
			if after := len(e.messagesTo(ev, "kossi@example.tg")); after != before+1 {
				t.Fatalf("resend: %d messages, then %d", before, after)
			}

			// The history shows on the page; a registration of another event is a 404.
			expect(t, org.get(cp), http.StatusOK, "Annulation", "Place confirmée")
			otherEv := e.regEvent("Autre", 0, model.ModeOpen)
			expect(t, org.get("/admin/events/"+itoa(otherEv.ID)+"/registrations/"+itoa(pending.ID)), http.StatusNotFound)
			expect(t, e.login(model.RoleDoor).get(page), http.StatusForbidden)
		})
	}
}

func TestRegistrationsBulkApproveAndReject(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ev := e.regEvent("Session sur validation", 0, model.ModeApproval)
			p1 := e.seed(ev, seed{First: "Un", Last: "Attente", Email: "un@example.tg", Status: model.RegPending})
			p2 := e.seed(ev, seed{First: "Deux", Last: "Attente", Email: "deux@example.tg", Status: model.RegPending})
			p3 := e.seed(ev, seed{First: "Trois", Last: "Attente", Email: "trois@example.tg", Status: model.RegPending})
			done := e.seed(ev, seed{First: "Déjà", Last: "Confirmé", Email: "deja@example.tg", Status: model.RegConfirmed})
			other := e.regEvent("Autre", 0, model.ModeApproval)
			elsewhere := e.seed(other, seed{First: "Autre", Last: "Session", Email: "autre@example.tg", Status: model.RegPending})
			org := e.login(model.RoleOrganizer)
			list := "/admin/events/" + itoa(ev.ID) + "/registrations"

			r := org.post(list, list+"/bulk", url.Values{"action": {"approve"}, "back": {"status=pending"},
				"ids": {itoa(p1.ID), itoa(p2.ID), itoa(done.ID), itoa(elsewhere.ID)}})
			if loc := r.Header.Get("Location"); loc != list+"?status=pending" {
				t.Fatalf("back to %q", loc)
			}
			expect(t, org.follow(r), http.StatusOK, "2 demandes traitées.", "2 lignes ignorées", "Trois Attente")
			for _, id := range []int64{p1.ID, p2.ID, done.ID} {
				if got := e.registration(id).Status; got != model.RegConfirmed {
					t.Fatalf("registration %d: %s", id, got)
				}
			}
			if got := e.registration(elsewhere.ID).Status; got != model.RegPending {
				t.Fatalf("another event's registration changed: %s", got)
			}
			if kinds := e.messagesTo(ev, "un@example.tg"); !hasKind(kinds, "registration_confirmed") {
				t.Fatalf("bulk approval email: %v", kinds)
			}
			r = org.post(list, list+"/bulk", url.Values{"action": {"reject"}, "reason": {"Complet pour les médias en ligne."}, "ids": {itoa(p3.ID)}})
			expect(t, org.follow(r), http.StatusOK, "1 demande refusée.")
			if got := e.registration(p3.ID); got.Status != model.RegRejected || got.RejectReason != "Complet pour les médias en ligne." {
				t.Fatalf("bulk reject: %s %q", got.Status, got.RejectReason)
			}
			r = org.post(list, list+"/bulk", url.Values{"action": {"approve"}})
			expect(t, org.follow(r), http.StatusOK, "Cochez au moins une demande en attente.")
			expect(t, org.post(list, list+"/bulk", url.Values{"action": {"explode"}, "ids": {itoa(p1.ID)}}), http.StatusBadRequest)
		})
	}
}

func TestRegistrationAddByHand(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			ev := e.regEvent("Petite salle", 1, model.ModeApproval)
			e.seed(ev, seed{First: "Afi", Last: "Mensah", Email: "afi@example.tg", Status: model.RegConfirmed})
			org := e.login(model.RoleOrganizer)
			newPage := "/admin/events/" + itoa(ev.ID) + "/registrations/new"
			create := "/admin/events/" + itoa(ev.ID) + "/registrations"
			r := org.get(newPage)
			expect(t, r, http.StatusOK, `name="first_name"`, `name="channel_facebook"`, `name="override_capacity"`, "La session est complète.")
			expectNot(t, r, `name="consent"`)

			form := func(first, email string) url.Values {
				return url.Values{"first_name": {first}, "last_name": {"Main"}, "email": {email}, "phone": {"90 11 22 33"},
					"outlet": {"Blog du Golfe"}, "reg_lang": {"en"}}
			}
			// Full: to the waitlist (even in approval mode, staff need no approval).
			r = org.post(newPage, create, form("Koffi", "koffi@example.tg"))
			expect(t, org.follow(r), http.StatusOK, "liste d’attente", "Koffi Main")
			c, err := e.app.Store.FindContactByEmail(ctx, "koffi@example.tg")
			if err != nil {
				t.Fatal(err)
			}
			reg, err := e.app.Store.FindRegistrationFor(ctx, ev.ID, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if reg.Status != model.RegWaitlisted || reg.Source != model.SourceStaff || reg.Lang != "en" || c.Phone != "+22890112233" {
				t.Fatalf("by hand: %s %s %s %s", reg.Status, reg.Source, reg.Lang, c.Phone)
			}
			// Override: confirmed beyond capacity.
			f := form("Akouvi", "akouvi@example.tg")
			f.Set("override_capacity", "yes")
			r = org.post(newPage, create, f)
			expect(t, org.follow(r), http.StatusOK, "L’inscription est ajoutée.")
			c, _ = e.app.Store.FindContactByEmail(ctx, "akouvi@example.tg")
			if reg, err = e.app.Store.FindRegistrationFor(ctx, ev.ID, c.ID); err != nil || reg.Status != model.RegConfirmed {
				t.Fatalf("override: %v %v", reg.Status, err)
			}
			if kinds := e.messagesTo(ev, "akouvi@example.tg"); !hasKind(kinds, "registration_confirmed") {
				t.Fatalf("by-hand email: %v", kinds)
			}
			// The same address again: nothing new, the organizer is told, nobody is emailed.
			before := len(e.messagesTo(ev, "akouvi@example.tg"))
			r = org.post(newPage, create, form("Akouvi", "AKOUVI@example.tg"))
			if loc := r.Header.Get("Location"); !strings.HasSuffix(loc, "/registrations/"+itoa(reg.ID)) {
				t.Fatalf("duplicate goes to %q", loc)
			}
			expect(t, org.follow(r), http.StatusOK, "Cette adresse est déjà inscrite")
			if after := len(e.messagesTo(ev, "akouvi@example.tg")); after != before {
				t.Fatalf("duplicate emailed: %d → %d", before, after)
			}
			// Bad input re-renders with the values and the messages, in French.
			bad := form("Sena", "pas-une-adresse")
			bad.Set("last_name", "")
			r = org.post(newPage, create, bad)
			expect(t, r, http.StatusUnprocessableEntity, "Ce champ est obligatoire.", "Cette adresse e-mail n’est pas valide.", `value="Sena"`, `value="Blog du Golfe"`)
		})
	}
}

func TestQuestionsEditor(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			ev := e.regEvent("Session à questions", 0, model.ModeOpen)
			org := e.login(model.RoleOrganizer)
			qs := "/admin/events/" + itoa(ev.ID) + "/questions"
			expect(t, org.get(qs), http.StatusOK, "Aucune question", `<option value="multi_choice"`, "Choix multiple")

			r := org.post(qs, qs, url.Values{"label": {"Votre blog traite-t-il du numérique ?"}, "kind": {"yes_no"}, "required": {"yes"}})
			expect(t, org.follow(r), http.StatusOK, "La question est ajoutée.", "Votre blog traite-t-il du numérique ?")
			r = org.post(qs, qs, url.Values{"label": {"Thèmes"}, "help": {"Cochez ce qui vous concerne."}, "kind": {"multi_choice"},
				"options": {"Big data\r\n\r\nE-gouvernement\r\n  Sécurité  "}})
			expect(t, r, http.StatusSeeOther)
			list, _ := e.app.Store.ListQuestions(ctx, ev.ID)
			if len(list) != 2 || list[1].Options != "Big data\nE-gouvernement\nSécurité" || !list[0].Required || list[1].Required {
				t.Fatalf("questions: %+v", list)
			}
			// The public form now asks them.
			expect(t, e.client().get("/e/"+ev.Slug), http.StatusOK, "Thèmes", "E-gouvernement")

			// Bad input: 422, values kept, message next to the field, in the user's language.
			r = org.post(qs, qs, url.Values{"label": {"  "}, "kind": {"text"}, "help": {"Aide gardée"}})
			expect(t, r, http.StatusUnprocessableEntity, "Ce champ est obligatoire.", `aria-invalid="true"`, `value="Aide gardée"`)
			r = org.post(qs, qs, url.Values{"label": {"Un seul choix"}, "kind": {"choice"}, "options": {"Oui"}})
			expect(t, r, http.StatusUnprocessableEntity, "Indiquez au moins deux choix, un par ligne.", `value="Un seul choix"`)
			r = org.post(qs, qs, url.Values{"label": {"Type inconnu"}, "kind": {"essay"}})
			expect(t, r, http.StatusUnprocessableEntity, "Choisissez une des valeurs proposées.")
			en := e.login(model.RoleOrganizer)
			en.lang = "en"
			r = en.post(qs, qs, url.Values{"label": {"One choice"}, "kind": {"choice"}, "options": {"Yes"}})
			expect(t, r, http.StatusUnprocessableEntity, "Give at least two choices, one per line.")
			if list, _ := e.app.Store.ListQuestions(ctx, ev.ID); len(list) != 2 {
				t.Fatalf("bad input saved: %d questions", len(list))
			}

			// Edit, with a bad edit first.
			edit := qs + "/" + itoa(list[1].ID)
			expect(t, org.get(edit), http.StatusOK, `value="Thèmes"`, "Big data\nE-gouvernement")
			r = org.post(edit, edit, url.Values{"label": {"Thèmes"}, "kind": {"choice"}, "options": {"Seul"}})
			expect(t, r, http.StatusUnprocessableEntity, "Indiquez au moins deux choix")
			r = org.post(edit, edit, url.Values{"label": {"Thèmes préférés"}, "kind": {"choice"}, "options": {"Big data\nSécurité"}, "required": {"yes"}})
			expect(t, org.follow(r), http.StatusOK, "La question est enregistrée.", "Thèmes préférés")
			list, _ = e.app.Store.ListQuestions(ctx, ev.ID)
			if list[1].Label != "Thèmes préférés" || list[1].Kind != model.QChoice || !list[1].Required {
				t.Fatalf("edited: %+v", list[1])
			}
			// Move the second up, then remove it.
			org.post(qs, edit+"/move", url.Values{"dir": {"up"}})
			list, _ = e.app.Store.ListQuestions(ctx, ev.ID)
			if list[0].Label != "Thèmes préférés" {
				t.Fatalf("moved: %s first", list[0].Label)
			}
			r = org.post(qs, edit+"/delete", nil)
			expect(t, org.follow(r), http.StatusOK, "La question est retirée.")
			if list, _ = e.app.Store.ListQuestions(ctx, ev.ID); len(list) != 1 {
				t.Fatalf("after delete: %d", len(list))
			}
			// Another event's question is not reachable through this one.
			other := e.regEvent("Autre", 0, model.ModeOpen)
			expect(t, org.get("/admin/events/"+itoa(other.ID)+"/questions/"+itoa(list[0].ID)), http.StatusNotFound)
			expect(t, e.login(model.RoleDoor).get(qs), http.StatusForbidden)
		})
	}
}

func TestRegistrationsCSVExport(t *testing.T) {
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			e := newEnv(t, driver)
			ctx := context.Background()
			ev := e.regEvent("Session exportée", 0, model.ModeOpen)
			q1 := &model.Question{EventID: ev.ID, Label: "Votre question pour le ministre", Kind: model.QLongText}
			q2 := &model.Question{EventID: ev.ID, Label: "Thèmes", Kind: model.QMultiChoice, Options: "Big data\nSécurité\nE-gouvernement"}
			q3 := &model.Question{EventID: ev.ID, Label: "Déjà venu ?", Kind: model.QYesNo}
			for _, q := range []*model.Question{q1, q2, q3} {
				if err := e.app.SaveQuestion(ctx, app.Actor{Name: "test"}, q); err != nil {
					t.Fatal(err)
				}
			}
			answers, _ := json.Marshal(map[string]any{itoa(q1.ID): "Pourquoi; comment ?\nEt quand ?", itoa(q2.ID): []string{"Big data", "Sécurité"}, itoa(q3.ID): "yes"})
			afi := e.seed(ev, seed{First: "Afi", Last: "Mensah", Email: "afi@example.tg", Outlet: "=HYPERLINK(\"http://evil\")",
				Status: model.RegConfirmed, Answers: string(answers), CheckedIn: true,
				Channels: []model.ContactChannel{{Platform: "facebook", Handle: "@afi"}, {Platform: "x", Handle: "@afi_tg"}}})
			e.seed(ev, seed{First: "Kossi", Last: "Agbeko", Email: "kossi@example.tg", Outlet: "@lome", Status: model.RegWaitlisted})
			org := e.login(model.RoleOrganizer)
			path := "/admin/events/" + itoa(ev.ID) + "/registrations.csv"

			r := org.get(path)
			expect(t, r, http.StatusOK)
			if ct := r.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
				t.Fatalf("content type %q", ct)
			}
			if cd := r.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, ".csv") {
				t.Fatalf("disposition %q", cd)
			}
			if !strings.HasPrefix(r.body, "\ufeff") {
				t.Fatal("no byte order mark")
			}
			body := strings.TrimPrefix(r.body, "\ufeff")
			header := body[:strings.Index(body, "\r\n")]
			if !strings.HasPrefix(header, "Référence;Statut;Origine;Prénom;Nom;") || !strings.HasSuffix(header, ";Votre question pour le ministre;Thèmes;Déjà venu ?") {
				t.Fatalf("header: %q", header)
			}
			if strings.Contains(strings.ReplaceAll(body, "\r\n", ""), "\r") {
				t.Fatal("a bare CR")
			}
			if !strings.Contains(body, "\"Pourquoi; comment ?\r\nEt quand ?\"") {
				t.Fatalf("a value with ; and a newline is not quoted:\n%s", body)
			}
			rd := csv.NewReader(strings.NewReader(body))
			rd.Comma = ';'
			recs, err := rd.ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 3 {
				t.Fatalf("%d records", len(recs))
			}
			var row []string
			for _, rec := range recs[1:] {
				if len(rec) != 14+3 {
					t.Fatalf("%d columns: %q", len(rec), rec)
				}
				if rec[5] == "afi@example.tg" {
					row = rec
				}
			}
			if row == nil {
				t.Fatal("Afi is not exported")
			}
			want := map[int]string{0: ticket.FormatReference(afi.Reference), 1: "Confirmée", 2: "En ligne", 3: "Afi", 4: "Mensah",
				6: "'+228 90 12 34 56", 7: "'=HYPERLINK(\"http://evil\")", 9: "Lomé", 10: "1200", 11: "Facebook: @afi | X (Twitter): @afi_tg",
				14: "Pourquoi; comment ?\nEt quand ?", 15: "Big data | Sécurité", 16: "Oui"}
			for i, v := range want {
				if row[i] != v {
					t.Errorf("column %d (%s) = %q, want %q", i, recs[0][i], row[i], v)
				}
			}
			if row[13] == "" || row[12] == "" {
				t.Errorf("times missing: %q %q", row[12], row[13])
			}
			if !strings.Contains(body, "'@lome") {
				t.Error("@ not neutralised")
			}

			// Commas on request, the header in English for an English reader, filters kept.
			en := e.login(model.RoleOrganizer)
			en.lang = "en"
			r = en.get(path + "?sep=comma&status=waitlisted")
			expect(t, r, http.StatusOK, "Reference,Status,Source,", "kossi@example.tg")
			expectNot(t, r, "afi@example.tg")
			expect(t, e.login(model.RoleDoor).get(path), http.StatusForbidden)
		})
	}
}
