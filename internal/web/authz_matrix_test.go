package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"relais/internal/app"
	"relais/internal/config"
	"relais/internal/model"
)

// The authorization matrix: every route Echo has registered, called by every kind of
// caller, must answer as its row says. A route without a row fails the test, so that no
// route ships without someone deciding who may call it.

// Access classes of the rows.
const (
	authzOps       = "ops"       // health, metrics (from the local network, as here), static files, the API description: anyone
	authzPublic    = "public"    // public pages and forms: anyone
	authzHolder    = "holder"    // only with the right token in the path (see authzTokenOwner)
	authzNobody    = "nobody"    // a token in the query or form that none of the callers holds
	authzDoorA     = "door-A"    // the door link of the event in the path, and every staff member
	authzStaff     = "staff"     // any signed-in role; on the API also an API token of any role
	authzOrganizer = "organizer" // organizers and admins (session; on the API also their tokens)
	authzAdmin     = "admin"     // admins only
)

// authzRow says who may call a route. accept lists statuses an allowed caller may get
// from the minimal request the matrix sends (a failed login is a 401 for everyone);
// form is that minimal request's form, when an empty one would stop at validation
// before the check the row is about.
type authzRow struct {
	class  string
	accept []int
	form   url.Values
}

// authzRows is the matrix: "METHOD /path/:param" → row. Keep it in the order of routes.go.
var authzRows = map[string]authzRow{
	// Operations.
	"GET /healthz":                   {class: authzOps},
	"GET /readyz":                    {class: authzOps},
	"GET /metrics":                   {class: authzOps},
	"GET /static/*":                  {class: authzOps},
	"GET /favicon.ico":               {class: authzOps},
	"GET /api/v1/openapi.yaml":       {class: authzOps},
	"GET /door/sw.js":                {class: authzOps},
	"GET /door/manifest.webmanifest": {class: authzOps},

	// Public pages.
	"GET /":                                             {class: authzPublic},
	"GET /e/:slug":                                      {class: authzPublic},
	"GET /e/:slug/documents/:doc":                       {class: authzPublic},
	"POST /e/:slug/register":                            {class: authzPublic},
	"GET /e/:slug/register":                             {class: authzPublic},
	"GET /e/:slug/inscrit":                              {class: authzPublic},
	"GET /lang":                                         {class: authzPublic},
	"GET /login":                                        {class: authzPublic},
	"POST /login":                                       {class: authzPublic, accept: []int{http.StatusUnauthorized}}, // no such account
	"POST /logout":                                      {class: authzPublic},
	"GET /password/forgot":                              {class: authzPublic},
	"POST /password/forgot":                             {class: authzPublic},
	"GET /confidentialite":                              {class: authzPublic},
	"GET /password/reset":                               {class: authzNobody},
	"POST /password/reset":                              {class: authzNobody, form: url.Values{"token": {"pas-un-jeton"}, "password": {"Lagune bleue de Lomé 2017"}}},
	"GET /setup":                                        {class: authzNobody},
	"POST /setup":                                       {class: authzNobody, form: url.Values{"token": {"pas-un-jeton"}, "email": {"intrus@example.tg"}, "name": {"Intrus"}, "password": {"Lagune bleue de Lomé 2017"}, "lang": {"fr"}}},
	"GET /t/:token":                                     {class: authzHolder},
	"GET /t/:token/qr.png":                              {class: authzHolder},
	"GET /t/:token/event.ics":                           {class: authzHolder},
	"GET /t/:token/cancel":                              {class: authzHolder},
	"POST /t/:token/cancel":                             {class: authzHolder},
	"GET /t/:token/edit":                                {class: authzHolder},
	"POST /t/:token/edit":                               {class: authzHolder},
	"POST /t/:token/coverage":                           {class: authzHolder},
	"GET /i/:token":                                     {class: authzHolder},
	"POST /i/:token/accept":                             {class: authzHolder},
	"POST /i/:token/decline":                            {class: authzHolder},
	"GET /u/:token":                                     {class: authzHolder},
	"POST /u/:token":                                    {class: authzHolder},
	"GET /door/l/:token":                                {class: authzHolder},
	"GET /door/events/:id":                              {class: authzStaff},
	"GET /admin":                                        {class: authzStaff},
	"GET /admin/account":                                {class: authzStaff},
	"POST /admin/account/tokens":                        {class: authzStaff},
	"POST /admin/account/tokens/:id/revoke":             {class: authzStaff},
	"POST /admin/account/sign-out-everywhere":           {class: authzStaff},
	"GET /admin/events/new":                             {class: authzOrganizer},
	"POST /admin/events":                                {class: authzOrganizer},
	"GET /admin/events/:id":                             {class: authzOrganizer},
	"GET /admin/events/:id/edit":                        {class: authzOrganizer},
	"POST /admin/events/:id":                            {class: authzOrganizer},
	"POST /admin/events/:id/status":                     {class: authzOrganizer},
	"POST /admin/events/:id/agenda":                     {class: authzOrganizer},
	"POST /admin/events/:id/agenda/:item":               {class: authzOrganizer},
	"POST /admin/events/:id/agenda/:item/move":          {class: authzOrganizer},
	"POST /admin/events/:id/agenda/:item/delete":        {class: authzOrganizer},
	"POST /admin/events/:id/documents":                  {class: authzOrganizer},
	"POST /admin/events/:id/documents/:doc/delete":      {class: authzOrganizer},
	"GET /admin/events/:id/registrations":               {class: authzOrganizer},
	"GET /admin/events/:id/registrations.csv":           {class: authzOrganizer},
	"POST /admin/events/:id/registrations/bulk":         {class: authzOrganizer},
	"GET /admin/events/:id/registrations/new":           {class: authzOrganizer},
	"POST /admin/events/:id/registrations":              {class: authzOrganizer},
	"GET /admin/events/:id/registrations/:reg":          {class: authzOrganizer},
	"POST /admin/events/:id/registrations/:reg/approve": {class: authzOrganizer},
	"POST /admin/events/:id/registrations/:reg/reject":  {class: authzOrganizer},
	"POST /admin/events/:id/registrations/:reg/cancel":  {class: authzOrganizer},
	"POST /admin/events/:id/registrations/:reg/resend":  {class: authzOrganizer},
	"GET /admin/events/:id/questions":                   {class: authzOrganizer},
	"POST /admin/events/:id/questions":                  {class: authzOrganizer},
	"GET /admin/events/:id/questions/:q":                {class: authzOrganizer},
	"POST /admin/events/:id/questions/:q":               {class: authzOrganizer},
	"POST /admin/events/:id/questions/:q/move":          {class: authzOrganizer},
	"POST /admin/events/:id/questions/:q/delete":        {class: authzOrganizer},
	"GET /admin/events/:id/invitations":                 {class: authzOrganizer},
	"POST /admin/events/:id/invitations":                {class: authzOrganizer},
	"POST /admin/events/:id/invitations/remind":         {class: authzOrganizer},
	"POST /admin/events/:id/invitations/:inv/revoke":    {class: authzOrganizer},
	"POST /admin/invitations":                           {class: authzOrganizer},
	"GET /admin/events/:id/checkins":                    {class: authzOrganizer},
	"POST /admin/events/:id/door-links":                 {class: authzOrganizer},
	"POST /admin/events/:id/door-links/:link/revoke":    {class: authzOrganizer},
	"GET /admin/events/:id/door-links/:link/qr.png":     {class: authzOrganizer},
	"GET /admin/events/:id/attendance-sheet":            {class: authzOrganizer},
	"GET /admin/events/:id/badges":                      {class: authzOrganizer},
	"GET /admin/mailbox":                                {class: authzOrganizer},
	"GET /admin/mailbox/:id":                            {class: authzOrganizer},
	"GET /admin/mailbox/:id/html":                       {class: authzOrganizer},
	"GET /admin/mailbox/:id/attachments/:att":           {class: authzOrganizer},
	"POST /admin/mailbox/:id/retry":                     {class: authzOrganizer},
	"GET /admin/events/:id/campaigns":                   {class: authzOrganizer},
	"GET /admin/events/:id/campaigns/new":               {class: authzOrganizer},
	"POST /admin/events/:id/campaigns":                  {class: authzOrganizer},
	"GET /admin/events/:id/campaigns/:cid":              {class: authzOrganizer},
	"GET /admin/events/:id/campaigns/:cid/edit":         {class: authzOrganizer},
	"POST /admin/events/:id/campaigns/:cid":             {class: authzOrganizer},
	"POST /admin/events/:id/campaigns/:cid/delete":      {class: authzOrganizer},
	"GET /admin/events/:id/campaigns/:cid/preview.html": {class: authzOrganizer},
	"GET /admin/events/:id/campaigns/:cid/progress":     {class: authzOrganizer},
	"POST /admin/events/:id/campaigns/:cid/test":        {class: authzOrganizer},
	"POST /admin/events/:id/campaigns/:cid/send":        {class: authzOrganizer},
	"POST /admin/events/:id/campaigns/:cid/schedule":    {class: authzOrganizer},
	"POST /admin/events/:id/campaigns/:cid/unschedule":  {class: authzOrganizer},
	"POST /admin/events/:id/reminders":                  {class: authzOrganizer},
	"GET /admin/events/:id/coverage":                    {class: authzOrganizer},
	"POST /admin/events/:id/coverage":                   {class: authzOrganizer},
	"GET /admin/events/:id/coverage.csv":                {class: authzOrganizer},
	"GET /admin/events/:id/coverage/:cov":               {class: authzOrganizer},
	"POST /admin/events/:id/coverage/:cov":              {class: authzOrganizer},
	"POST /admin/events/:id/coverage/:cov/status":       {class: authzOrganizer},
	"POST /admin/events/:id/coverage/:cov/check":        {class: authzOrganizer},
	"GET /admin/events/:id/report":                      {class: authzOrganizer},
	"GET /admin/events/:id/admissions.csv":              {class: authzOrganizer},
	"GET /admin/engagement":                             {class: authzOrganizer},
	"GET /admin/contacts":                               {class: authzOrganizer},
	"GET /admin/contacts.csv":                           {class: authzOrganizer},
	"POST /admin/contacts/bulk":                         {class: authzOrganizer},
	"GET /admin/contacts/new":                           {class: authzOrganizer},
	"POST /admin/contacts":                              {class: authzOrganizer},
	"GET /admin/contacts/import":                        {class: authzOrganizer},
	"POST /admin/contacts/import":                       {class: authzOrganizer},
	"GET /admin/contacts/import/:key":                   {class: authzOrganizer},
	"POST /admin/contacts/import/:key":                  {class: authzOrganizer},
	"GET /admin/contacts/:id":                           {class: authzOrganizer},
	"GET /admin/contacts/:id/edit":                      {class: authzOrganizer},
	"POST /admin/contacts/:id":                          {class: authzOrganizer},
	"GET /admin/contacts/:id/export.json":               {class: authzOrganizer},
	"GET /admin/contacts/:id/erase":                     {class: authzOrganizer},
	"POST /admin/contacts/:id/erase":                    {class: authzOrganizer},
	"GET /admin/users":                                  {class: authzAdmin},
	"GET /admin/users/new":                              {class: authzAdmin},
	"POST /admin/users":                                 {class: authzAdmin},
	"GET /admin/users/:id":                              {class: authzAdmin},
	"POST /admin/users/:id":                             {class: authzAdmin},
	"POST /admin/users/:id/disable":                     {class: authzAdmin},
	"POST /admin/users/:id/enable":                      {class: authzAdmin},
	"GET /admin/settings":                               {class: authzAdmin},
	"POST /admin/settings":                              {class: authzAdmin},
	"GET /admin/audit":                                  {class: authzAdmin},

	// JSON API.
	"GET /api/v1/events":                                  {class: authzStaff},
	"GET /api/v1/events/:id":                              {class: authzStaff},
	"GET /api/v1/events/:id/registrations":                {class: authzStaff},
	"GET /api/v1/registrations/:id":                       {class: authzStaff},
	"POST /api/v1/events":                                 {class: authzOrganizer},
	"PATCH /api/v1/events/:id":                            {class: authzOrganizer},
	"GET /api/v1/events/:id/invitations":                  {class: authzOrganizer},
	"POST /api/v1/events/:id/invitations":                 {class: authzOrganizer},
	"POST /api/v1/events/:id/registrations":               {class: authzOrganizer},
	"PATCH /api/v1/registrations/:id":                     {class: authzOrganizer},
	"GET /api/v1/events/:id/campaigns":                    {class: authzOrganizer},
	"POST /api/v1/events/:id/campaigns":                   {class: authzOrganizer},
	"GET /api/v1/campaigns/:id":                           {class: authzOrganizer},
	"POST /api/v1/campaigns/:id/preview":                  {class: authzOrganizer},
	"POST /api/v1/campaigns/:id/send":                     {class: authzOrganizer},
	"GET /api/v1/events/:id/coverage":                     {class: authzOrganizer},
	"POST /api/v1/events/:id/coverage":                    {class: authzOrganizer},
	"PATCH /api/v1/coverage/:id":                          {class: authzOrganizer},
	"GET /api/v1/events/:id/report":                       {class: authzOrganizer},
	"GET /api/v1/contacts":                                {class: authzOrganizer},
	"POST /api/v1/contacts":                               {class: authzOrganizer},
	"GET /api/v1/contacts/:id":                            {class: authzOrganizer},
	"PATCH /api/v1/contacts/:id":                          {class: authzOrganizer},
	"DELETE /api/v1/contacts/:id":                         {class: authzOrganizer},
	"POST /api/v1/contacts/import":                        {class: authzOrganizer},
	"POST /api/v1/events/:id/checkins":                    {class: authzDoorA},
	"POST /api/v1/events/:id/checkins/batch":              {class: authzDoorA},
	"DELETE /api/v1/events/:id/checkins/:registration_id": {class: authzDoorA},
	"GET /api/v1/events/:id/roster":                       {class: authzDoorA},
	"GET /api/v1/events/:id/stats":                        {class: authzDoorA},
	"GET /api/v1/events/:id/search":                       {class: authzDoorA},
	"POST /api/v1/events/:id/walkins":                     {class: authzDoorA},
	"POST /api/v1/events/:id/decode":                      {class: authzDoorA},
}

// Callers.
const (
	authzAnon        = "anonymous"
	authzTicket      = "ticket-holder"
	authzDoorLink    = "door-link-A"
	authzDoorLinkOnB = "door-link-A-on-B"
	authzDoorUser    = "door-session"
	authzOrgUser     = "organizer-session"
	authzAdminUser   = "admin-session"
	authzDoorToken   = "door-api-token"
	authzOrgToken    = "organizer-api-token"
	authzAdminToken  = "admin-api-token"
)

var authzCallers = []string{authzAnon, authzTicket, authzDoorLink, authzDoorLinkOnB, authzDoorUser, authzOrgUser,
	authzAdminUser, authzDoorToken, authzOrgToken, authzAdminToken}

// authzTokenOwner is the caller who holds the token of a holder route's path; every
// other caller tries a token of the same shape that is nobody's.
func authzTokenOwner(route string) []string {
	switch {
	case strings.Contains(route, " /door/l/"):
		return []string{authzDoorLink, authzDoorLinkOnB}
	case strings.Contains(route, " /t/"), strings.Contains(route, " /i/"), strings.Contains(route, " /u/"):
		return []string{authzTicket}
	}
	return nil
}

// authzAllowed says whether caller may call a route of the class.
func authzAllowed(class, route, caller string) bool {
	api := strings.Contains(route, " /api/")
	session := map[string]model.Role{authzDoorUser: model.RoleDoor, authzOrgUser: model.RoleOrganizer, authzAdminUser: model.RoleAdmin}
	token := map[string]model.Role{authzDoorToken: model.RoleDoor, authzOrgToken: model.RoleOrganizer, authzAdminToken: model.RoleAdmin}
	role := func(min model.Role) bool {
		if r, ok := session[caller]; ok {
			return r.AtLeast(min)
		}
		if r, ok := token[caller]; ok && api {
			return r.AtLeast(min)
		}
		return false
	}
	switch class {
	case authzOps, authzPublic:
		return true
	case authzHolder:
		for _, o := range authzTokenOwner(route) {
			if o == caller {
				return true
			}
		}
		return false
	case authzNobody:
		return false
	case authzDoorA:
		return caller == authzDoorLink || role(model.RoleDoor)
	case authzStaff:
		return role(model.RoleDoor)
	case authzOrganizer:
		return role(model.RoleOrganizer)
	case authzAdmin:
		return role(model.RoleAdmin)
	}
	panic("unknown class " + class)
}

// authzCaller is what a caller sends with every request.
type authzCaller struct {
	name    string
	session []byte // stored session data to clone for each request
	hdr     map[string]string
	apiHdr  map[string]string // only on /api/ paths
	onB     bool              // ids of event B in the path
}

type authzMatrix struct {
	e          *env
	g          *authzGlobal
	csrfCookie string
	csrfToken  string
	callers    map[string]*authzCaller
}

// TestAuthzMatrix runs on SQLite only: the guards do not depend on the database, and
// the flows behind them run on both elsewhere.
func TestAuthzMatrix(t *testing.T) {
	e, echoE := authzNewEnv(t, "sqlite", nil, func(c *config.Config) {
		c.CoverageCheck = false // the recheck route would fetch a page on the Internet
		c.FormRate = 1000       // every caller posts the public forms
	})
	m := &authzMatrix{e: e, g: authzFixtures(e), callers: map[string]*authzCaller{}}
	m.csrfCookie, m.csrfToken = authzCSRF(e)
	for _, name := range authzCallers {
		c := &authzCaller{name: name, hdr: map[string]string{}, apiHdr: map[string]string{}}
		switch name {
		case authzTicket:
			// The ticket's token is no API credential.
			c.apiHdr["Authorization"] = "Bearer " + m.g.a.holder.ManageToken
		case authzDoorLink:
			c.hdr["X-Door-Token"] = m.g.a.link.Token
		case authzDoorLinkOnB:
			c.hdr["X-Door-Token"] = m.g.a.link.Token
			c.onB = true
		case authzDoorUser:
			c.session = authzSessionData(e, model.RoleDoor)
		case authzOrgUser:
			c.session = authzSessionData(e, model.RoleOrganizer)
		case authzAdminUser:
			c.session = authzSessionData(e, model.RoleAdmin)
		case authzDoorToken:
			c.hdr["Authorization"] = "Bearer " + e.token(model.RoleDoor)
		case authzOrgToken:
			c.hdr["Authorization"] = "Bearer " + e.token(model.RoleOrganizer)
		case authzAdminToken:
			c.hdr["Authorization"] = "Bearer " + e.token(model.RoleAdmin)
		}
		m.callers[name] = c
	}

	var routes []string
	seen := map[string]bool{}
	for _, rt := range echoE.Routes() {
		if rt.Method == "echo_route_not_found" || strings.HasPrefix(rt.Method, "echo_") {
			continue
		}
		key := rt.Method + " " + rt.Path
		if !seen[key] {
			seen[key] = true
			routes = append(routes, key)
		}
	}
	var missing []string
	for _, r := range routes {
		if _, ok := authzRows[r]; !ok {
			missing = append(missing, r)
		}
	}
	sort.Strings(missing)
	for _, r := range missing {
		t.Errorf("route %s has no row in the authorization matrix: add one", r)
	}
	for r := range authzRows {
		if !seen[r] {
			t.Errorf("the authorization matrix has a row for %s, which is not routed: remove it", r)
		}
	}
	if len(missing) > 0 {
		t.FailNow()
	}
	// Reads first, then changes, then what deletes or ends something, so that every
	// route meets its fixtures still there.
	sort.SliceStable(routes, func(i, j int) bool {
		if a, b := authzPhase(routes[i]), authzPhase(routes[j]); a != b {
			return a < b
		}
		return routes[i] < routes[j]
	})
	calls := 0
	for _, route := range routes {
		row := authzRows[route]
		// Refused callers first: a refusal must come from the guard, not from an object
		// an allowed caller just deleted.
		order := append([]string(nil), authzCallers...)
		sort.SliceStable(order, func(i, j int) bool {
			return !authzAllowed(row.class, route, order[i]) && authzAllowed(row.class, route, order[j])
		})
		for _, caller := range order {
			m.check(t, route, row, m.callers[caller])
			calls++
		}
	}
	t.Logf("authorization matrix: %d routes × %d callers = %d cells (%d requests)", len(routes), len(authzCallers), len(routes)*len(authzCallers), calls)
}

func authzPhase(route string) int {
	switch {
	case strings.HasPrefix(route, "GET "):
		return 0
	case strings.HasPrefix(route, "DELETE "), strings.HasSuffix(route, "/delete"), strings.HasSuffix(route, "/erase"),
		strings.HasSuffix(route, "/revoke"), strings.HasSuffix(route, "/disable"), strings.HasSuffix(route, "/cancel"),
		strings.HasSuffix(route, "/sign-out-everywhere"), strings.HasSuffix(route, "/logout"):
		return 2
	}
	return 1
}

var authzParamRe = regexp.MustCompile(`:[a-z_]+|\*$`)

// url builds the concrete path of a route for a caller, from the fixtures.
func (m *authzMatrix) url(t *testing.T, route string, c *authzCaller) string {
	_, pattern, _ := strings.Cut(route, " ")
	f := m.g.a
	if c.onB {
		f = m.g.b
	}
	owns := false
	for _, o := range authzTokenOwner(route) {
		owns = owns || o == c.name
	}
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	return authzParamRe.ReplaceAllStringFunc(pattern, func(p string) string {
		switch p {
		case "*":
			return "relais.css"
		case ":slug":
			return f.ev.Slug
		case ":token":
			if !owns {
				return app.NewToken() // same shape, nobody's
			}
			switch {
			case strings.HasPrefix(pattern, "/t/"):
				return f.holder.ManageToken
			case strings.HasPrefix(pattern, "/i/"):
				return f.inv.Token
			case strings.HasPrefix(pattern, "/u/"):
				return f.holderC.UnsubscribeToken
			case strings.HasPrefix(pattern, "/door/l/"):
				return f.link.Token
			}
		case ":doc":
			return id(f.doc.ID)
		case ":item":
			return id(f.item.ID)
		case ":q":
			return id(f.q.ID)
		case ":inv":
			return id(f.victimInv.ID)
		case ":link":
			return id(f.victimLink.ID)
		case ":reg", ":registration_id":
			return id(f.victim.ID)
		case ":cid":
			return id(f.camp.ID)
		case ":cov":
			return id(f.cov.ID)
		case ":att":
			return id(m.g.att)
		case ":key":
			return app.NewToken() // an import nobody kept
		case ":id":
			for prefix, v := range map[string]int64{
				"/admin/events/": f.ev.ID, "/door/events/": f.ev.ID, "/api/v1/events/": f.ev.ID,
				"/admin/users/": m.g.victimUser.ID, "/admin/account/tokens/": m.g.victimToken.ID,
				"/admin/mailbox/": m.g.msg.ID, "/admin/contacts/": f.victimC.ID, "/api/v1/contacts/": f.victimC.ID,
				"/api/v1/registrations/": f.victim.ID, "/api/v1/campaigns/": f.camp.ID, "/api/v1/coverage/": f.cov.ID,
			} {
				if strings.HasPrefix(pattern, prefix) {
					return id(v)
				}
			}
		}
		// No fixture for this parameter: an id nobody has, and a 404 is "no data".
		t.Logf("%s: no fixture for %s, using an unknown id", route, p)
		return "987654321"
	})
}

// check sends the minimal request of a route as the caller and judges the answer.
func (m *authzMatrix) check(t *testing.T, route string, row authzRow, c *authzCaller) {
	t.Helper()
	method, _, _ := strings.Cut(route, " ")
	path := m.url(t, route, c)
	api := strings.HasPrefix(path, "/api/")
	hdr := map[string]string{"X-CSRF-Token": m.csrfToken}
	for k, v := range c.hdr {
		hdr[k] = v
	}
	if api {
		for k, v := range c.apiHdr {
			hdr[k] = v
		}
	}
	var body *strings.Reader
	switch method {
	case http.MethodPost, http.MethodPatch, http.MethodPut:
		if api && row.form == nil {
			body, hdr["Content-Type"] = strings.NewReader("{}"), "application/json"
		} else {
			vals := url.Values{"_csrf": {m.csrfToken}}
			for k, v := range row.form {
				vals[k] = v
			}
			body, hdr["Content-Type"] = strings.NewReader(vals.Encode()), "application/x-www-form-urlencoded"
		}
	default:
		body = strings.NewReader("")
	}
	cookies := []*http.Cookie{{Name: "relais_csrf", Value: m.csrfCookie}}
	if c.session != nil {
		cookies = append(cookies, &http.Cookie{Name: "relais_session", Value: authzCloneSession(m.e, c.session)})
	}
	r, err := authzDo(m.e, method, path, body, hdr, cookies...)
	if err != nil {
		t.Errorf("%s as %s: %v", route, c.name, err)
		return
	}
	allowed := authzAllowed(row.class, route, c.name)
	where := fmt.Sprintf("%s (%s %s) as %s [%s]", route, method, path, c.name, row.class)
	if r.StatusCode >= 500 {
		t.Errorf("%s: status %d, never a 500\n%s", where, r.StatusCode, snippet(r.body))
		return
	}
	loc := r.Header.Get("Location")
	toLogin := r.StatusCode >= 300 && r.StatusCode < 400 && strings.HasPrefix(loc, "/login?next=")
	if allowed {
		accepted := false
		for _, s := range row.accept {
			accepted = accepted || s == r.StatusCode
		}
		if !accepted && (r.StatusCode == http.StatusUnauthorized || r.StatusCode == http.StatusForbidden || toLogin) {
			t.Errorf("%s: refused (%d %s) but the row allows it\n%s", where, r.StatusCode, loc, snippet(r.body))
		}
		if c.name == authzDoorLink {
			m.noData(t, where, r, m.g.b.markers)
		}
		return
	}
	switch {
	case c.name == authzDoorLinkOnB && row.class == authzDoorA:
		// Another event's routes do not exist for a door link.
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", where, r.StatusCode)
		}
	case r.StatusCode == http.StatusUnauthorized, r.StatusCode == http.StatusForbidden, r.StatusCode == http.StatusNotFound:
	case toLogin && !api:
	default:
		t.Errorf("%s: status %d %s, want a refusal (401/403/404)\n%s", where, r.StatusCode, loc, snippet(r.body))
	}
	m.noData(t, where, r, append(append([]string(nil), m.g.a.markers...), m.g.b.markers...))
	if api && !strings.Contains(r.Header.Get("Content-Type"), "json") {
		t.Errorf("%s: API refusal of type %q, want a JSON error", where, r.Header.Get("Content-Type"))
	}
}

// noData fails when an answer carries personal data of the given people.
func (m *authzMatrix) noData(t *testing.T, where string, r *resp, markers []string) {
	t.Helper()
	for _, s := range markers {
		if strings.Contains(r.body, s) {
			t.Errorf("%s: the answer (%d) holds %q", where, r.StatusCode, s)
		}
	}
}
