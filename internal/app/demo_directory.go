package app

import (
	"context"
	"strings"

	"relais/internal/model"
)

// demoExtraContacts are fictional people of the directory who never registered for a
// demo session (some of them never invited either): first name, last name, outlet,
// city, platform, handle, audience, tags (comma-separated).
var demoExtraContacts = [][8]string{
	{"Mawuena", "Agbodjan", "Mawuena Digital", "Lomé", "tiktok", "@mawuena.digital", "45000", "influenceur, vidéo, Lomé"},
	{"Kossiwa", "Attisso", "Kossiwa Tech", "Lomé", "youtube", "https://youtube.com/@kossiwatech", "19000", "tech, vidéo, Lomé"},
	{"Tchao", "Kpatcha", "Kara Infos", "Kara", "facebook", "Kara Infos", "8200", "société"},
	{"Afi", "Dzodzi", "Afi au quotidien", "Atakpamé", "instagram", "@afi.quotidien", "27000", "influenceur, société"},
	{"Yaovi", "Gbeassor", "Le Code Togolais", "Lomé", "linkedin", "yaovi-gbeassor", "3100", "tech, Lomé"},
	{"Bella", "Nyuiadzi", "Bella Reportages", "Aného", "x", "@bella_reporte", "6400", "société, vidéo"},
}

// demoTags labels a demo blogger from what the directory knows of them, so that the
// demo directory can be filtered by tag as a real one would.
func demoTags(b [6]string) []string {
	var tags []string
	outlet := strings.ToLower(b[2])
	for _, w := range []string{"tech", "code", "geek", "startups", "digital", "connect"} {
		if strings.Contains(outlet, w) {
			tags = append(tags, "tech")
			break
		}
	}
	for _, w := range []string{"santé", "éducation", "maman", "femmes", "agro", "écolo", "économie", "finance", "infos", "actu", "news", "reporter"} {
		if strings.Contains(outlet, w) {
			tags = append(tags, "société")
			break
		}
	}
	if b[3] == "Lomé" {
		tags = append(tags, "Lomé")
	}
	if b[4] == "youtube" || b[4] == "tiktok" {
		tags = append(tags, "vidéo")
	}
	if n, ok := parseCount(b[5]); ok && n >= 20000 {
		tags = append(tags, "influenceur")
	}
	return tags
}

// demoDirectory tags the demo bloggers, and adds to the directory those who registered
// for no demo session and the extra contacts. It can run twice: tags are added once,
// and contacts already there are left alone.
func (a *App) demoDirectory(ctx context.Context) error {
	actor := Actor{Name: "demo"}
	add := func(in ContactForm) (*model.Contact, error) {
		c, err := a.Store.FindContactByEmail(ctx, in.Email)
		if model.ErrorCode(err) == model.ENotFound {
			return a.CreateContact(ctx, actor, in)
		}
		return c, err
	}
	byTag := map[string][]int64{}
	for _, b := range demoBloggers {
		slug := strings.ToLower(Slugify(b[0] + "." + b[1]))
		c, err := add(ContactForm{FirstName: b[0], LastName: b[1], Email: slug + "@blog.example.org", Outlet: b[2],
			City: b[3], Lang: "fr", Audience: b[5],
			Channels: []ChannelInput{{Platform: b[4], Handle: "@" + strings.ReplaceAll(slug, "-", "")}}})
		if err != nil {
			return err
		}
		for _, t := range demoTags(b) {
			byTag[t] = append(byTag[t], c.ID)
		}
	}
	for tag, ids := range byTag {
		if _, err := a.Store.AddContactsTag(ctx, ids, tag); err != nil {
			return err
		}
	}
	for _, x := range demoExtraContacts {
		_, err := add(ContactForm{FirstName: x[0], LastName: x[1], Email: strings.ToLower(Slugify(x[0]+"."+x[1])) + "@blog.example.org",
			Outlet: x[2], City: x[3], Country: "Togo", Lang: "fr", Audience: x[6], Tags: []string{x[7]},
			Channels: []ChannelInput{{Platform: x[4], Handle: x[5], Followers: x[6]}}})
		if err != nil {
			return err
		}
	}
	return nil
}
