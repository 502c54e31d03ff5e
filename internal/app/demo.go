package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"relais/internal/model"
)

const (
	demoPastSlug     = "blogosphere-reseau-e-gouvernement-2017"
	demoUpcomingSlug = "blogueurs-services-publics-en-ligne"
	demoWorkshopSlug = "atelier-verification-information"
)

// demoBloggers are fictional bloggers: first name, last name, outlet, city, platform, audience.
var demoBloggers = [][6]string{
	{"Kafui", "Adjo", "Le blog de Kafui", "Lomé", "facebook", "12000"},
	{"Edem", "Kossi", "TechTogo", "Lomé", "x", "8500"},
	{"Ama", "Mensah", "Ama raconte", "Kpalimé", "instagram", "23000"},
	{"Yao", "Agbeko", "Lomé Digital", "Lomé", "youtube", "41000"},
	{"Akossiwa", "Dogbe", "Femmes & Tech", "Lomé", "facebook", "15500"},
	{"Komlan", "Amegah", "Le Grenier numérique", "Aného", "blog", "3000"},
	{"Afiwa", "Tchalla", "Afiwa TV", "Sokodé", "tiktok", "67000"},
	{"Sena", "Ahiadzro", "Sena Reporter", "Lomé", "x", "5200"},
	{"Mawuli", "Gbedemah", "Mawuli Talks", "Tsévié", "youtube", "9800"},
	{"Dzifa", "Koudaya", "Dzifa écrit", "Lomé", "blog", "2100"},
	{"Essowè", "Pali", "Kara Connect", "Kara", "facebook", "7400"},
	{"Abla", "Lawson", "Abla Lifestyle", "Lomé", "instagram", "31000"},
	{"Kodjo", "Apedo", "Kodjo Code", "Lomé", "linkedin", "4300"},
	{"Enyonam", "Akakpo", "Enyo News", "Atakpamé", "whatsapp", "6000"},
	{"Tchilabalo", "Bakali", "Savanes Infos", "Dapaong", "facebook", "5600"},
	{"Elom", "Attiogbe", "Elom le geek", "Lomé", "tiktok", "52000"},
	{"Adzo", "Kpodar", "Adzo Cuisine", "Lomé", "instagram", "18000"},
	{"Kokou", "Dossou", "Togo Startups", "Lomé", "linkedin", "6100"},
	{"Massan", "Aziaka", "Massan Voyages", "Kpalimé", "youtube", "14000"},
	{"Fafa", "Gnassingbé", "Fafa Mode", "Lomé", "instagram", "26000"},
	{"Kwami", "Eklou", "Kwami Sport", "Lomé", "x", "9100"},
	{"Ayélé", "Sodji", "Ayélé Santé", "Lomé", "facebook", "11200"},
	{"Messan", "Anani", "Messan Agro", "Notsé", "facebook", "3900"},
	{"Yawa", "Ganyo", "Yawa Éducation", "Lomé", "blog", "2700"},
	{"Folly", "Hounkpati", "Folly Culture", "Aného", "instagram", "8800"},
	{"Nadou", "Bawa", "Nadou Beauté", "Sokodé", "tiktok", "38000"},
	{"Koffi", "Ayivi", "Koffi Finance", "Lomé", "linkedin", "5100"},
	{"Dédé", "Amouzou", "Dédé Musique", "Lomé", "youtube", "22000"},
	{"Sika", "Adomayakpor", "Sika Économie", "Lomé", "x", "4700"},
	{"Mensah", "Kuevi", "Mensah Photo", "Lomé", "instagram", "13500"},
	{"Ablavi", "Tossou", "Ablavi Maman", "Tsévié", "facebook", "9900"},
	{"Gafar", "Ouro-Djobo", "Tchaoudjo Actu", "Sokodé", "whatsapp", "4500"},
	{"Selom", "Klutse", "Selom Tech", "Lomé", "x", "7300"},
	{"Amivi", "Dzidzienyo", "Amivi Afrique", "Lomé", "blog", "1800"},
	{"Kossivi", "Hodo", "Kossivi Ciné", "Lomé", "youtube", "12300"},
	{"Eyram", "Adjovi", "Eyram Écolo", "Kpalimé", "instagram", "6700"},
}

// demoRegister registers one fictional blogger, as staff (no window, no consent box).
func (a *App) demoRegister(ctx context.Context, ev *model.Event, b [6]string, override bool) error {
	slugEmail := strings.ToLower(Slugify(b[0] + "." + b[1]))
	in := RegistrationInput{ContactInput: ContactInput{FirstName: b[0], LastName: b[1], Outlet: b[2], City: b[3],
		Email: slugEmail + "@blog.example.org", Audience: b[5],
		Channels: []model.ContactChannel{{Platform: b[4], Handle: "@" + strings.ReplaceAll(slugEmail, "-", "")}}},
		Lang: "fr", Source: model.SourceOnline, Staff: true, OverrideCapacity: false}
	if ev.RegistrationMode == model.ModeApproval {
		// As the bloggers themselves would: the requests wait for the organizer.
		in.Staff, in.Consent = false, true
	}
	res, err := a.Register(ctx, ev.ID, in)
	if err != nil {
		return err
	}
	if res.Registration.Status == model.RegPending && res.Registration.ID%2 == 0 {
		_, err = a.ApproveRegistration(ctx, Actor{Name: "demo"}, res.Registration.ID, false)
		return err
	}
	return nil
}

// LoadDemo loads the model session of 17 May 2017 (kept as a past event) and an upcoming
// session in the same spirit, published and open. People and contacts are fictional.
// It finds events by slug, so running it twice changes nothing.
func (a *App) LoadDemo(ctx context.Context) (string, error) {
	actor := Actor{Name: "demo"}
	st, err := a.Settings(ctx)
	if err != nil {
		return "", err
	}
	if st.ID == 0 {
		st.Name = "Ministère des Postes et de l’Économie numérique"
		st.About = "Sessions de sensibilisation des blogueurs, influenceurs et créateurs de contenu aux projets numériques de l’État."
		st.Website = "https://numerique.example.tg"
		st.Address = "Boulevard du 13 janvier, Lomé, Togo"
		st.SenderName = "Ministère – Communication"
		st.SenderEmail = "communication@numerique.example.tg"
		st.ReplyTo = "presse@numerique.example.tg"
		st.PressContactName = "Afi Mensah (fictive)"
		st.PressContactEmail = "presse@numerique.example.tg"
		st.PressContactPhone = "+228 22 00 00 00"
		st.DefaultLang, st.DefaultTimezone = "fr", "Africa/Lome"
		if err := a.SaveSettings(ctx, actor, st); err != nil {
			return "", err
		}
	}
	lome, _ := time.LoadLocation("Africa/Lome")
	created := 0
	pastStart := time.Date(2017, 5, 17, 9, 0, 0, 0, lome).UTC()
	past := &model.Event{
		Slug:     demoPastSlug,
		Title:    "Les blogueurs à la découverte du réseau e-Gouvernement",
		Occasion: "Journée mondiale des télécommunications et de la société de l’information",
		Theme:    "Les mégadonnées pour un méga impact",
		Summary:  "Séance d’information de la blogosphère togolaise sur le réseau en fibre optique de l’administration (e-Gouvernement), suivie d’une séance d’échanges.",
		Description: "Le ministère invite une trentaine de blogueurs, influenceurs et créateurs de contenu pour leur présenter " +
			"le **réseau e-Gouvernement** : la fibre optique qui relie les administrations de Lomé.\n\n" +
			"- présentation du projet et de son calendrier ;\n- démonstration des premiers services ;\n" +
			"- séance d’échanges avec l’équipe technique.\n\nMerci de relayer l’information sur vos plateformes avec le mot-dièse **#eGouvTG**.",
		VenueName: "Ministère des Postes et de l’Économie numérique", VenueAddress: "Salle de conférence, Lomé",
		StartsAt: pastStart, EndsAt: pastStart.Add(3 * time.Hour), Timezone: "Africa/Lome", Capacity: 30,
		RegistrationMode: model.ModeOpen, Status: model.EventPublished, Lang: "fr",
		PressContactName: "Afi Mensah (fictive)", PressContactEmail: "presse@numerique.example.tg", PressContactPhone: "+228 22 00 00 00",
	}
	agendaPast := []model.AgendaItem{
		{StartTime: "09:00", Title: "Accueil des participants et émargement"},
		{StartTime: "09:30", Title: "Mot de bienvenue", Speaker: "Le Secrétaire général (fictif)"},
		{StartTime: "09:45", Title: "Présentation du réseau e-Gouvernement", Speaker: "Kossi Agbeko, chef de projet (fictif)"},
		{StartTime: "10:45", Title: "Les mégadonnées pour un méga impact : enjeux pour le Togo", Speaker: "Ama Lawson (fictive)"},
		{StartTime: "11:15", Title: "Séance d’échanges avec les blogueurs"},
		{StartTime: "12:00", Title: "Fin de la session"},
	}
	n, err := a.demoEvent(ctx, actor, past, agendaPast)
	if err != nil {
		return "", err
	}
	created += n
	today := a.Now().In(lome)
	upStart := time.Date(today.Year(), today.Month(), today.Day(), 9, 0, 0, 0, lome).AddDate(0, 0, 21).UTC()
	upcoming := &model.Event{
		Slug:    demoUpcomingSlug,
		Title:   "Les services publics en ligne expliqués aux blogueurs",
		Theme:   "Des démarches administratives plus simples, partout au Togo",
		Summary: "Une matinée pour découvrir les nouveaux services publics en ligne et en parler à vos communautés.",
		Description: "Après le réseau e-Gouvernement, place aux **services** : démarches en ligne, paiement mobile, " +
			"suivi des dossiers.\n\nInscription gratuite, places limitées. Apportez votre téléphone : " +
			"des démonstrations sont prévues.",
		VenueName: "Ministère des Postes et de l’Économie numérique", VenueAddress: "Salle de conférence, Lomé",
		StartsAt: upStart, EndsAt: upStart.Add(3*time.Hour + 30*time.Minute), Timezone: "Africa/Lome", Capacity: 40,
		RegistrationMode: model.ModeOpen, Status: model.EventPublished, Lang: "fr",
		PressContactName: "Afi Mensah (fictive)", PressContactEmail: "presse@numerique.example.tg", PressContactPhone: "+228 22 00 00 00",
	}
	agendaUp := []model.AgendaItem{
		{StartTime: "09:00", Title: "Accueil et café"},
		{StartTime: "09:30", Title: "Les services publics en ligne : où en est-on ?", Speaker: "Kossi Agbeko (fictif)"},
		{StartTime: "10:30", Title: "Démonstrations sur téléphone"},
		{StartTime: "11:30", Title: "Séance d’échanges"},
	}
	n, err = a.demoEvent(ctx, actor, upcoming, agendaUp)
	if err != nil {
		return "", err
	}
	created += n
	workStart := time.Date(today.Year(), today.Month(), today.Day(), 14, 0, 0, 0, lome).AddDate(0, 0, 35).UTC()
	workshop := &model.Event{
		Slug:      demoWorkshopSlug,
		Title:     "Atelier : vérifier l’information avant de la relayer",
		Theme:     "Lutter contre les fausses nouvelles sur les réseaux sociaux",
		Summary:   "Un atelier pratique de vérification des faits, sur validation (places limitées).",
		VenueName: "Maison des médias", VenueAddress: "Lomé", StartsAt: workStart, EndsAt: workStart.Add(2 * time.Hour),
		Timezone: "Africa/Lome", Capacity: 15, RegistrationMode: model.ModeApproval, Status: model.EventPublished, Lang: "fr",
		PressContactName: "Afi Mensah (fictive)", PressContactEmail: "presse@numerique.example.tg",
	}
	n, err = a.demoEvent(ctx, actor, workshop, []model.AgendaItem{
		{StartTime: "14:00", Title: "Les réflexes de vérification"}, {StartTime: "15:00", Title: "Exercices pratiques"}})
	if err != nil {
		return "", err
	}
	created += n
	if created == 0 {
		return "demo already loaded: nothing to do", nil
	}
	// Registrations (fictional people, reserved example.org addresses).
	for i, b := range demoBloggers {
		switch {
		case i < 32:
			if err := a.demoRegister(ctx, past, b, true); err != nil {
				return "", err
			}
		}
		if i%3 == 0 && i < 36 {
			if err := a.demoRegister(ctx, upcoming, b, false); err != nil {
				return "", err
			}
		}
		if i%5 == 1 {
			if err := a.demoRegister(ctx, workshop, b, false); err != nil {
				return "", err
			}
		}
	}
	if err := a.demoDirectory(ctx); err != nil {
		return "", err
	}
	if err := a.demoInvitations(ctx, upcoming); err != nil {
		return "", err
	}
	if err := a.demoFollowUp(ctx, demoPastSlug); err != nil { // admissions and a sent follow-up (demo_followup.go)
		return "", err
	}
	if _, err := a.demoCoverage(ctx, past); err != nil {
		return "", err
	}
	return fmt.Sprintf("demo loaded: %d session(s) created (/e/%s, /e/%s)", created, demoPastSlug, demoUpcomingSlug), nil
}

func (a *App) demoEvent(ctx context.Context, actor Actor, e *model.Event, agenda []model.AgendaItem) (int, error) {
	if _, err := a.Store.FindEventBySlug(ctx, e.Slug); err == nil {
		return 0, nil
	} else if model.ErrorCode(err) != model.ENotFound {
		return 0, err
	}
	if err := a.SaveEvent(ctx, actor, e); err != nil {
		return 0, err
	}
	for i := range agenda {
		agenda[i].EventID = e.ID
		if err := a.AddAgendaItem(ctx, actor, &agenda[i]); err != nil {
			return 0, err
		}
	}
	return 1, nil
}
