package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"relais/internal/app"
	"relais/internal/model"
)

// routes declares every route, grouped by who may call it. Reading this function tells
// the whole surface of Relais and its guards.
func (s *Server) routes(e *echo.Echo) {
	csrfConfig := middleware.CSRFConfig{
		TokenLookup:    "form:_csrf,header:X-CSRF-Token",
		CookieName:     "relais_csrf",
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   s.secure,
		CookieSameSite: http.SameSiteLaxMode,
		CookieMaxAge:   12 * 3600,
		Skipper: func(c echo.Context) bool {
			// A page filled into the page cache carries no token (pagecache.go).
			return c.Get("api_token") == true || c.Get("page_cacheable") == true
		},
		ErrorHandler: func(err error, c echo.Context) error {
			if c.Get("body_too_large") == true { // the form was cut before its token
				return &model.Error{Code: model.ETooLarge, Message: "error.body_too_large", Err: err}
			}
			return &model.Error{Code: model.EForbidden, Message: "error.csrf", Err: err}
		},
	}
	csrf := middleware.CSRFWithConfig(csrfConfig)
	// On the API, a request with no signed-in user carries no authority to abuse: it
	// skips the CSRF check so that requireRole answers it with a clear 401.
	apiCSRFConfig := csrfConfig
	apiCSRFConfig.Skipper = func(c echo.Context) bool { return c.Get("api_token") == true || c.Get("user") == nil }
	apiCSRF := middleware.CSRFWithConfig(apiCSRFConfig)
	e.Pre(middleware.RemoveTrailingSlashWithConfig(middleware.TrailingSlashConfig{RedirectCode: http.StatusMovedPermanently}))
	e.Use(requestID, s.logRequests, s.recoverPanics, s.securityHeaders, s.negotiateLang, s.purgePagesOnWrite)
	// Bloggers pay for their data: compress text answers (PNG and PDF are already
	// compressed; cached pages are kept compressed).
	e.Use(middleware.GzipWithConfig(middleware.GzipConfig{Level: 6, MinLength: 512, Skipper: func(c echo.Context) bool {
		p := c.Request().URL.Path
		return strings.HasSuffix(p, ".png") || strings.Contains(p, "/documents/") || strings.Contains(p, "/attachments/") ||
			s.pageCacheable(c)
	}}))
	// Each server has its own metrics registry (several servers may live in one process in tests).
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	e.Use(echoprometheus.NewMiddlewareWithConfig(echoprometheus.MiddlewareConfig{
		Namespace:  "relais",
		Subsystem:  "http",
		Registerer: reg,
		Skipper:    func(c echo.Context) bool { return c.Path() == "/metrics" },
	}))
	small := bodyLimit(1 << 20)
	upload := bodyLimit(s.maxBody + 1<<20)
	sessions := s.loadSession

	// Operations: no session, no CSRF.
	e.GET("/healthz", s.handleHealthz)
	e.GET("/readyz", s.handleReadyz)
	e.GET("/metrics", echoprometheus.NewHandlerWithConfig(echoprometheus.HandlerConfig{Gatherer: reg}), localOnly)
	e.GET("/static/*", s.handleStatic)
	e.GET("/favicon.ico", s.handleFavicon)

	// Public pages: anyone.
	// The home and event pages are cached for anonymous visitors (pagecache.go); the
	// registration form they hold is guarded by Fetch metadata, not by a token.
	e.GET("/", s.handleHome, s.cachePublicPage, small, sessions, s.loadUser, csrf)
	e.GET("/e/:slug", s.handleEventPage, s.cachePublicPage, small, sessions, s.loadUser, csrf)
	e.POST("/e/:slug/register", s.handleRegister, small, sessions, s.loadUser, s.publicFormGuard)
	pub := e.Group("", small, sessions, s.loadUser, csrf)
	pub.GET("/e/:slug/documents/:doc", s.handleEventDocument)
	pub.GET("/e/:slug/register", s.handleEventPage)
	pub.GET("/e/:slug/inscrit", s.handleRegistered)

	// A ticket holder: the token in the URL is their key.
	holder := e.Group("/t/:token", small, sessions, s.loadUser, csrf, noReferrer)
	holder.GET("", s.handleTicket)
	holder.GET("/qr.png", s.handleTicketQR)
	holder.GET("/event.ics", s.handleTicketICS)
	holder.GET("/cancel", s.handleTicketCancelForm)
	holder.POST("/cancel", s.handleTicketCancel)
	holder.GET("/edit", s.handleTicketEditForm)
	holder.POST("/edit", s.handleTicketEdit)
	holder.POST("/coverage", s.handleTicketCoverage) // coverage.go: links of what the attendee published
	// An invitee: the invitation's token in the URL is their key (invitation.go).
	invitee := e.Group("/i/:token", small, sessions, s.loadUser, csrf, noReferrer)
	invitee.GET("", s.handleInvitationPage)
	invitee.POST("/accept", s.handleInvitationAccept)
	invitee.POST("/decline", s.handleInvitationDecline)
	// A contact's unsubscribe link (unsubscribe.go). A mail client's one-click POST
	// (RFC 8058) has neither cookie nor CSRF token: that request alone skips the check.
	unsubCSRFConfig := csrfConfig
	unsubCSRFConfig.Skipper = isOneClickUnsubscribe
	unsub := e.Group("/u/:token", small, sessions, s.loadUser, middleware.CSRFWithConfig(unsubCSRFConfig), noReferrer)
	unsub.GET("", s.handleUnsubscribePage)
	unsub.POST("", s.handleUnsubscribe)
	pub.GET("/lang", s.handleLang)
	pub.GET("/login", s.handleLoginForm)
	pub.POST("/login", s.handleLogin)
	pub.POST("/logout", s.handleLogout)
	pub.GET("/password/forgot", s.handleForgotForm)
	pub.POST("/password/forgot", s.handleForgot)
	pub.GET("/password/reset", s.handleResetForm, noReferrer)
	pub.POST("/password/reset", s.handleReset, noReferrer)
	pub.GET("/confidentialite", s.handlePrivacy)
	pub.GET("/setup", s.handleSetupForm)
	pub.POST("/setup", s.handleSetup)

	// Door page (doorpage.go): a door link's token in the URL is its key, no session;
	// signed-in staff open an event's door. Door pages alone may use the camera, are never
	// cached by shared caches and send no referrer (doorHeaders). The service worker and
	// the manifest live under /door/ so that the PWA's scope is the door pages only.
	doorPub := e.Group("/door", small, doorHeaders)
	doorPub.GET("/sw.js", s.handleDoorServiceWorker)
	doorPub.GET("/manifest.webmanifest", s.handleDoorManifest)
	doorPub.GET("/l/:token", s.handleDoorLinkPage, sessions) // the session only carries page flashes here
	doorStaff := e.Group("/door/events", small, doorHeaders, sessions, s.loadUser, csrf, requireRole(model.RoleDoor))
	doorStaff.GET("/:id", s.handleDoorStaffPage)

	// Staff: any signed-in role (door included).
	// The body limit comes first in every /admin group: the CSRF check reads the form, and
	// it runs before requireRole, so a limit set on the route alone would let anyone make
	// the server read (and spool to disk) a multipart body of any size.
	staff := e.Group("/admin", small, sessions, s.loadUser, csrf, requireRole(model.RoleDoor))
	staff.GET("", s.handleDashboard, small)
	staff.GET("/account", s.handleAccount, small)
	staff.POST("/account/tokens", s.handleCreateToken, small)
	staff.POST("/account/tokens/:id/revoke", s.handleRevokeToken, small)
	staff.POST("/account/sign-out-everywhere", s.handleSignOutEverywhere, small)

	// Organizers (and admins): events, documents, mailbox.
	org := e.Group("/admin", small, sessions, s.loadUser, csrf, requireRole(model.RoleOrganizer))
	// Uploads have their own, larger limits, set first for the same reason.
	orgUpload := func(limit echo.MiddlewareFunc) *echo.Group {
		return e.Group("/admin", limit, sessions, s.loadUser, csrf, requireRole(model.RoleOrganizer))
	}
	org.GET("/events/new", s.handleEventNew, small)
	org.POST("/events", s.handleEventCreate, small)
	org.GET("/events/:id", s.handleEventAdmin, small)
	org.GET("/events/:id/edit", s.handleEventEdit, small)
	org.POST("/events/:id", s.handleEventUpdate, small)
	org.POST("/events/:id/status", s.handleEventStatus, small)
	org.POST("/events/:id/agenda", s.handleAgendaAdd, small)
	org.POST("/events/:id/agenda/:item", s.handleAgendaUpdate, small)
	org.POST("/events/:id/agenda/:item/move", s.handleAgendaMove, small)
	org.POST("/events/:id/agenda/:item/delete", s.handleAgendaDelete, small)
	orgUpload(upload).POST("/events/:id/documents", s.handleDocumentUpload)
	org.POST("/events/:id/documents/:doc/delete", s.handleDocumentDelete, small)
	org.GET("/events/:id/registrations", s.handleRegistrations, small)
	org.GET("/events/:id/registrations.csv", s.handleRegistrationsCSV, small)
	org.POST("/events/:id/registrations/bulk", s.handleRegistrationsBulk, small)
	org.GET("/events/:id/registrations/new", s.handleRegistrationNew, small)
	org.POST("/events/:id/registrations", s.handleRegistrationCreate, small)
	org.GET("/events/:id/registrations/:reg", s.handleRegistrationAdmin, small)
	org.POST("/events/:id/registrations/:reg/approve", s.handleRegistrationApprove, small)
	org.POST("/events/:id/registrations/:reg/reject", s.handleRegistrationReject, small)
	org.POST("/events/:id/registrations/:reg/cancel", s.handleRegistrationCancel, small)
	org.POST("/events/:id/registrations/:reg/resend", s.handleRegistrationResend, small)
	org.GET("/events/:id/questions", s.handleQuestions, small)
	org.POST("/events/:id/questions", s.handleQuestionAdd, small)
	org.GET("/events/:id/questions/:q", s.handleQuestionEdit, small)
	org.POST("/events/:id/questions/:q", s.handleQuestionUpdate, small)
	org.POST("/events/:id/questions/:q/move", s.handleQuestionMove, small)
	org.POST("/events/:id/questions/:q/delete", s.handleQuestionDelete, small)
	org.GET("/events/:id/invitations", s.handleInvitations, small)
	org.POST("/events/:id/invitations", s.handleInvitationsCreate, small)
	org.POST("/events/:id/invitations/remind", s.handleInvitationsRemind, small)
	org.POST("/events/:id/invitations/:inv/revoke", s.handleInvitationRevoke, small)
	org.POST("/invitations", s.handleInvite, small)
	// Check-in (checkins_admin.go): counters, log and conflicts, door links, printing.
	org.GET("/events/:id/checkins", s.handleCheckinsAdmin, small)
	org.POST("/events/:id/door-links", s.handleDoorLinkCreate, small)
	org.POST("/events/:id/door-links/:link/revoke", s.handleDoorLinkRevoke, small)
	org.GET("/events/:id/door-links/:link/qr.png", s.handleDoorLinkQR, small)
	org.GET("/events/:id/attendance-sheet", s.handleAttendanceSheet, small)
	org.GET("/events/:id/badges", s.handleBadges, small)
	org.GET("/mailbox", s.handleMailbox, small)
	org.GET("/mailbox/:id", s.handleMailboxMessage, small)
	org.GET("/mailbox/:id/html", s.handleMailboxHTML, small)
	org.GET("/mailbox/:id/attachments/:att", s.handleMailboxAttachment, small)
	org.POST("/mailbox/:id/retry", s.handleMailboxRetry, small)
	// Follow-ups and reminders (campaigns_admin.go).
	org.GET("/events/:id/campaigns", s.handleCampaigns, small)
	org.GET("/events/:id/campaigns/new", s.handleCampaignNew, small)
	org.POST("/events/:id/campaigns", s.handleCampaignCreate, small)
	org.GET("/events/:id/campaigns/:cid", s.handleCampaign, small)
	org.GET("/events/:id/campaigns/:cid/edit", s.handleCampaignEdit, small)
	org.POST("/events/:id/campaigns/:cid", s.handleCampaignUpdate, small)
	org.POST("/events/:id/campaigns/:cid/delete", s.handleCampaignDelete, small)
	org.GET("/events/:id/campaigns/:cid/preview.html", s.handleCampaignPreviewHTML, small)
	org.GET("/events/:id/campaigns/:cid/progress", s.handleCampaignProgress, small)
	org.POST("/events/:id/campaigns/:cid/test", s.handleCampaignTest, small)
	org.POST("/events/:id/campaigns/:cid/send", s.handleCampaignSend, small)
	org.POST("/events/:id/campaigns/:cid/schedule", s.handleCampaignSchedule, small)
	org.POST("/events/:id/campaigns/:cid/unschedule", s.handleCampaignUnschedule, small)
	org.POST("/events/:id/reminders", s.handleReminderOffsets, small)
	// Coverage, the event report and its exports, engagement (coverage.go, report.go).
	org.GET("/events/:id/coverage", s.handleCoverage, small)
	org.POST("/events/:id/coverage", s.handleCoverageCreate, small)
	org.GET("/events/:id/coverage.csv", s.handleCoverageCSV, small)
	org.GET("/events/:id/coverage/:cov", s.handleCoverageEdit, small)
	org.POST("/events/:id/coverage/:cov", s.handleCoverageUpdate, small)
	org.POST("/events/:id/coverage/:cov/status", s.handleCoverageStatus, small)
	org.POST("/events/:id/coverage/:cov/check", s.handleCoverageRecheck, small)
	org.GET("/events/:id/report", s.handleReport, small)
	org.GET("/events/:id/admissions.csv", s.handleAdmissionsCSV, small)
	org.GET("/engagement", s.handleEngagement, small)
	// The blogger directory (contacts.go, contacts_import.go). An import's file may be
	// larger than other forms: its limit is the file's, plus the multipart envelope.
	importBody := bodyLimit(app.MaxImportBytes + 1<<20)
	org.GET("/contacts", s.handleContacts, small)
	org.GET("/contacts.csv", s.handleContactsCSV, small)
	org.POST("/contacts/bulk", s.handleContactsBulk, small)
	org.GET("/contacts/new", s.handleContactNew, small)
	org.POST("/contacts", s.handleContactCreate, small)
	org.GET("/contacts/import", s.handleContactImportForm, small)
	orgUpload(importBody).POST("/contacts/import", s.handleContactImportUpload)
	org.GET("/contacts/import/:key", s.handleContactImportPreview, small)
	org.POST("/contacts/import/:key", s.handleContactImportRun, small)
	org.GET("/contacts/:id", s.handleContact, small)
	org.GET("/contacts/:id/edit", s.handleContactEdit, small)
	org.POST("/contacts/:id", s.handleContactUpdate, small)
	org.GET("/contacts/:id/export.json", s.handleContactExport, small)
	org.GET("/contacts/:id/erase", s.handleContactEraseForm, small)
	org.POST("/contacts/:id/erase", s.handleContactErase, small)

	// Administrators: accounts and organization settings.
	adm := e.Group("/admin", small, sessions, s.loadUser, csrf, requireRole(model.RoleAdmin))
	adm.GET("/users", s.handleUsers, small)
	adm.GET("/users/new", s.handleUserNew, small)
	adm.POST("/users", s.handleUserCreate, small)
	adm.GET("/users/:id", s.handleUserEdit, small)
	adm.POST("/users/:id", s.handleUserUpdate, small)
	adm.POST("/users/:id/disable", s.handleUserDisable, small)
	adm.POST("/users/:id/enable", s.handleUserEnable, small)
	adm.GET("/settings", s.handleSettingsForm, small)
	adm.POST("/settings", s.handleSettingsSave, small)
	adm.GET("/audit", s.handleAudit, small) // audit.go

	// JSON API: a Bearer API token, or the session cookie plus the X-CSRF-Token header.
	e.GET("/api/v1/openapi.yaml", s.handleOpenAPI)
	api := e.Group("/api/v1", small, s.bearerAuth, sessions, s.loadUserUnlessToken, apiCSRF)
	apiDoor := api.Group("", requireRole(model.RoleDoor))
	apiDoor.GET("/events", s.apiListEvents)
	apiDoor.GET("/events/:id", s.apiGetEvent)
	apiDoor.GET("/events/:id/registrations", s.apiListRegistrations)
	apiDoor.GET("/registrations/:id", s.apiGetRegistration)
	apiOrg := api.Group("", requireRole(model.RoleOrganizer))
	apiOrg.POST("/events", s.apiCreateEvent)
	apiOrg.PATCH("/events/:id", s.apiUpdateEvent)
	apiOrg.GET("/events/:id/invitations", s.apiListInvitations)
	apiOrg.POST("/events/:id/invitations", s.apiCreateInvitations)
	apiOrg.POST("/events/:id/registrations", s.apiCreateRegistration)
	apiOrg.PATCH("/registrations/:id", s.apiUpdateRegistration)
	apiOrg.GET("/events/:id/campaigns", s.apiListCampaigns) // api_campaigns.go
	apiOrg.POST("/events/:id/campaigns", s.apiCreateCampaign)
	apiOrg.GET("/campaigns/:id", s.apiGetCampaign)
	apiOrg.POST("/campaigns/:id/preview", s.apiPreviewCampaign)
	apiOrg.POST("/campaigns/:id/send", s.apiSendCampaign)
	apiOrg.GET("/events/:id/coverage", s.apiListCoverage) // api_coverage.go
	apiOrg.POST("/events/:id/coverage", s.apiCreateCoverage)
	apiOrg.PATCH("/coverage/:id", s.apiUpdateCoverage)
	apiOrg.GET("/events/:id/report", s.apiReport)
	apiOrg.GET("/contacts", s.apiListContacts)
	apiOrg.POST("/contacts", s.apiCreateContact)
	apiOrg.GET("/contacts/:id", s.apiGetContact)
	apiOrg.PATCH("/contacts/:id", s.apiUpdateContact)
	apiOrg.DELETE("/contacts/:id", s.apiDeleteContact)
	// The import takes a file up to app.MaxImportBytes: outside the API group and its
	// 1 MB limit, with the same guards.
	e.POST("/api/v1/contacts/import", s.apiImportContacts, importBody, s.bearerAuth, sessions,
		s.loadUserUnlessToken, apiCSRF, requireRole(model.RoleOrganizer))
	// Check-in at the door (door_api.go, door_auth.go): a door link (X-Door-Token) for its
	// own event only, staff of any role (session plus X-CSRF-Token), or an API token.
	doorAPI := func(limit echo.MiddlewareFunc) []echo.MiddlewareFunc {
		return []echo.MiddlewareFunc{limit, s.doorAuth, s.bearerAuth, unlessDoorToken(sessions, s.loadUser, apiCSRF), s.requireDoor}
	}
	e.POST("/api/v1/events/:id/checkins", s.apiCheckIn, doorAPI(small)...)
	e.POST("/api/v1/events/:id/checkins/batch", s.apiCheckInBatch, doorAPI(small)...)
	e.DELETE("/api/v1/events/:id/checkins/:registration_id", s.apiUndoCheckIn, doorAPI(small)...)
	e.GET("/api/v1/events/:id/roster", s.apiRoster, doorAPI(small)...)
	e.GET("/api/v1/events/:id/stats", s.apiCheckInStats, doorAPI(small)...)
	e.GET("/api/v1/events/:id/search", s.apiDoorSearch, doorAPI(small)...)
	e.POST("/api/v1/events/:id/walkins", s.apiWalkIn, doorAPI(small)...)
	e.POST("/api/v1/events/:id/decode", s.apiDecodePhoto, doorAPI(bodyLimit(maxPhotoBytes+1<<20))...)
}

// loadUserUnlessToken loads the session user when no API token authenticated the request.
func (s *Server) loadUserUnlessToken(next echo.HandlerFunc) echo.HandlerFunc {
	withSession := s.loadUser(next)
	return func(c echo.Context) error {
		if c.Get("api_token") == true {
			return next(c)
		}
		return withSession(c)
	}
}
