package app

import (
	"context"
	"strings"
	"time"

	"relais/internal/model"
	"relais/internal/store"
)

// demoCoverageItems are what fictional bloggers of the 2017 demo session published:
// the index of the blogger in demoBloggers, a fictional address, a title, the day of
// May 2017, the declared reach, the status, and whether an organizer added it.
var demoCoverageItems = []struct {
	blogger   int
	url       string
	title     string
	day       int
	reach     int
	status    model.CoverageStatus
	organizer bool
}{
	{0, "https://www.facebook.com/kafui.blog.example/posts/2017051701", "Au cœur du réseau e-Gouvernement", 17, 3400, model.CoverageVerified, false},
	{0, "https://kafui.example.org/2017/05/18/blogueurs-e-gouvernement", "Ce que la fibre de l’administration va changer", 18, 1200, model.CoverageVerified, false},
	{1, "https://x.com/techtogo_example/status/864812345678901234", "#eGouvTG : le fil de la séance", 17, 2100, model.CoverageVerified, false},
	{2, "https://www.instagram.com/p/eGouvTGama2017/", "En images : la salle des serveurs", 17, 5200, model.CoverageSubmitted, false},
	{3, "https://www.youtube.com/watch?v=eGouvTG2017", "Vlog : les blogueurs à la découverte du réseau e-Gouvernement", 19, 8900, model.CoverageVerified, true},
	{4, "https://www.facebook.com/femmesettech.example/videos/1017", "Les femmes et le numérique public", 18, 4100, model.CoverageVerified, false},
	{5, "https://grenier-numerique.example.org/2017/05/reseau-e-gouvernement", "Le réseau e-Gouvernement expliqué simplement", 20, 640, model.CoverageVerified, false},
	{7, "https://x.com/senareporter_example/status/864900000000000001", "Les mégadonnées pour un méga impact", 17, 1300, model.CoverageSubmitted, false},
	{9, "https://dzifa-ecrit.example.org/la-fibre-de-l-administration", "La fibre de l’administration, et nous ?", 19, 410, model.CoverageSubmitted, false},
	{10, "https://www.facebook.com/karaconnect.example/posts/5517", "Kara suit la session e-Gouvernement", 18, 2600, model.CoverageVerified, true},
	{12, "https://www.linkedin.com/posts/kodjo-code-example_egouvtg-activity-1", "Retour sur la session #eGouvTG", 19, 900, model.CoverageSubmitted, false},
	{20, "https://twitter.com/kwamisport_example/status/865000000000000002", "Résultats du week-end", 20, 700, model.CoverageRejected, false},
}

// demoCoverage records the coverage of the 2017 demo session. Items whose address is
// already recorded are skipped, so that running it twice adds nothing; the fictional
// pages are marked as not to be fetched by the page check.
func (a *App) demoCoverage(ctx context.Context, ev *model.Event) (int, error) {
	if ev.ID == 0 { // loaded by an earlier run
		found, err := a.Store.FindEventBySlug(ctx, ev.Slug)
		if err != nil {
			return 0, err
		}
		ev = found
	}
	lome := ev.Location()
	added := 0
	for _, it := range demoCoverageItems {
		b := demoBloggers[it.blogger]
		email := strings.ToLower(Slugify(b[0]+"."+b[1])) + "@blog.example.org"
		ct, err := a.Store.FindContactByEmail(ctx, email)
		if model.ErrorCode(err) == model.ENotFound {
			continue
		} else if err != nil {
			return added, err
		}
		r, err := a.Store.FindRegistrationFor(ctx, ev.ID, ct.ID)
		if model.ErrorCode(err) == model.ENotFound {
			continue
		} else if err != nil {
			return added, err
		}
		published := time.Date(2017, 5, it.day, 12, 0, 0, 0, lome).UTC()
		regID := r.ID
		c := &model.Coverage{EventID: ev.ID, ContactID: ct.ID, RegistrationID: &regID, URL: it.url,
			Platform: model.PlatformFromURL(it.url), Title: it.title, PublishedAt: &published, Reach: it.reach,
			SubmittedBy: model.SubmittedByBlogger, Status: it.status, CheckStatus: model.CheckSkipped,
			CreatedAt: published.Add(6 * time.Hour), UpdatedAt: published.Add(30 * time.Hour)}
		if it.organizer {
			c.SubmittedBy = model.SubmittedByOrganizer
		}
		if err := a.Store.CreateCoverage(ctx, c); store.IsDuplicate(err) {
			continue
		} else if err != nil {
			return added, err
		}
		added++
	}
	return added, nil
}
