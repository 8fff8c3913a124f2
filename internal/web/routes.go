package web

import (
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/model"
)

// routes registers every route with its access rule. Each group states the
// least role it needs; the role gate runs before the CSRF check so an
// anonymous visitor is sent to sign in rather than told about tokens.
// Every route must also appear in the access table of access_test.go.
func (s *Server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, err any) {
		s.log.Error("panic in handler", "path", c.Request.URL.Path, "err", err)
		if s.cfg.OnPanic != nil {
			s.cfg.OnPanic()
		}
		if strings.HasPrefix(c.Request.URL.Path, "/api/v1/") {
			s.apiError(c, http.StatusInternalServerError, "internal", "internal error; it has been logged")
			return
		}
		c.AbortWithStatus(http.StatusInternalServerError)
	}), func(c *gin.Context) {
		// bbolt reads its memory map unchecked: a damaged page can send
		// it past the map, a fault that kills the process unless it is
		// turned into a panic, which the recovery above answers.
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		c.Next()
	})
	// X-Forwarded-For is believed only from trusted_proxies; nil trusts
	// nobody (gin's own default would trust everyone).
	if err := r.SetTrustedProxies(s.cfg.Settings.TrustedProxies); err != nil {
		s.log.Warn("bad trusted_proxies setting", "err", err)
	}
	r.ForwardedByClientIP = true
	r.RemoteIPHeaders = []string{"X-Forwarded-For", "X-Real-IP"}
	r.HandleMethodNotAllowed = true
	// Off: under /api it redirected DELETE /api/v1/sources to a 404 instead
	// of answering 405; noRoute redirects page paths itself.
	r.RedirectTrailingSlash = false
	r.Use(s.requestLog, s.observe, s.securityHeaders, s.compress, s.identify)

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	// Prometheus scrapes with an admin's API token; metrics.addr serves
	// them without one on an address of their own (cli/serve.go).
	r.GET("/metrics", s.apiAuth, s.requireRole(model.RoleAdmin), s.metricsHandler)
	r.GET("/static/*filepath", s.serveAsset)

	// Anyone: sign-in and first-admin setup.
	public := r.Group("/", s.csrf)
	public.GET("/login", s.loginPage)
	public.POST("/login", s.loginSubmit)
	r.GET("/setup", s.setupGate, s.csrf, s.setupPage)
	r.POST("/setup", s.setupGate, s.csrf, s.setupSubmit)

	// The briefing, its editions and feeds: public or readers, per
	// briefing.public. No CSRF middleware: these pages have no forms for
	// visitors, and its cookie would keep them out of shared caches
	// (signed-in users' forms take the session's token).
	r.GET("/", s.briefingAccess, s.frontPage)
	published := r.Group("/", s.briefingAccess)
	published.GET("/editions", s.archivePage)
	published.GET("/editions/:id", s.editionPage)
	published.GET("/editions/:id/text", s.editionText)
	published.GET("/items/:id", s.itemPage)
	feeds := r.Group("/", s.feedAuth, s.briefingAccess)
	feeds.GET("/feed.rss", s.feedRSS)
	feeds.GET("/feed.atom", s.feedAtom)
	feeds.GET("/feed.json", s.feedJSON)

	// Any signed-in user: their own account.
	readers := r.Group("/", s.requireRole(model.RoleReader), s.csrf)
	readers.POST("/logout", s.logout)
	readers.GET("/account", s.accountPage)
	readers.POST("/account/password", s.changePassword)
	readers.POST("/account/logout-everywhere", s.logoutEverywhere)
	readers.POST("/account/tokens", s.addToken)
	readers.POST("/account/tokens/:id/revoke", s.revokeToken)
	readers.POST("/account/feed-token", s.resetFeedToken)

	// Curators: the queue and item actions.
	curators := r.Group("/", s.requireRole(model.RoleCurator), s.csrf)
	curators.GET("/queue", s.queuePage)
	curators.GET("/clip", s.clipPage)
	curators.POST("/clip", s.clipSubmit)
	curators.POST("/items/:id/approve", s.decideHandler(model.StatusApproved))
	curators.POST("/items/:id/reject", s.decideHandler(model.StatusRejected))
	curators.POST("/items/:id/requeue", s.decideHandler(model.StatusQueued))
	curators.POST("/items/:id/edit", s.editHandler)
	curators.GET("/editions/next", s.nextPage)
	curators.POST("/editions/next/move", s.nextAction(s.nextMove))
	curators.POST("/editions/next/section", s.nextAction(s.nextSection))
	curators.POST("/editions/next/pin", s.nextAction(s.nextPin))
	curators.POST("/editions/next/place", s.nextAction(s.nextPlace))
	curators.POST("/editions/next/publish", s.publishNow)
	curators.GET("/editions/:id/correct", s.correctPage)
	curators.POST("/editions/:id/correct", s.correctSubmit)

	// Admins: users and the audit log.
	adminPages := r.Group("/admin", s.requireRole(model.RoleAdmin), s.csrf)
	adminPages.GET("/users", s.usersPage)
	adminPages.GET("/status", s.statusPage)
	adminPages.POST("/status/compact", s.compactStore)
	adminPages.POST("/users", s.addUser)
	adminPages.POST("/users/:name/role", s.userAction(s.setUserRole))
	adminPages.POST("/users/:name/password", s.userAction(s.resetUserPassword))
	adminPages.POST("/users/:name/disable", s.userAction(s.disableUser))
	adminPages.POST("/users/:name/enable", s.userAction(s.enableUser))
	adminPages.POST("/users/:name/remove", s.userAction(s.removeUser))
	adminPages.GET("/audit", s.auditPage)
	adminPages.GET("/rules", s.rulesPage)
	adminPages.GET("/rules/new", s.ruleNewPage)
	adminPages.POST("/rules/new", s.rulePost)
	adminPages.GET("/rules/:id", s.ruleEditPage)
	adminPages.POST("/rules/:id", s.rulePost)
	adminPages.POST("/rules/:id/delete", s.ruleDelete)
	adminPages.GET("/backup", s.backupPage)
	adminPages.GET("/backup/download", s.backupDownload)

	// JSON API (see docs/api.md).
	api, apiReaders, apiCurators, adminAPI := s.apiGroups(r)
	api.GET("/briefing", s.briefingAccess, s.apiBriefing)
	api.GET("/editions", s.briefingAccess, s.apiEditions)
	api.GET("/editions/:id", s.briefingAccess, s.apiEdition)
	apiCurators.POST("/editions", s.apiPublish)
	apiReaders.GET("/me", s.apiMe)
	apiCurators.GET("/items", s.apiListItems)
	apiCurators.GET("/items/:id", s.apiGetItem)
	apiCurators.PATCH("/items/:id", s.apiPatchItem)
	apiCurators.POST("/clip", s.apiClip)
	apiCurators.POST("/items/:id/approve", s.apiDecide(model.StatusApproved))
	apiCurators.POST("/items/:id/reject", s.apiDecide(model.StatusRejected))
	adminAPI.GET("/users", s.apiUsers)
	adminAPI.GET("/audit", s.apiAudit)
	adminAPI.GET("/rules", s.apiListRules)
	adminAPI.POST("/rules", s.apiCreateRule)
	// Not under /rules: /rules/{id} would claim "test" as an id.
	adminAPI.POST("/rule-test", s.apiTestRule)
	adminAPI.GET("/rules/:id", s.apiGetRule)
	adminAPI.PUT("/rules/:id", s.apiUpdateRule)
	adminAPI.DELETE("/rules/:id", s.apiDeleteRule)

	// source administration routes
	s.sourceRoutes(adminPages, adminAPI)

	r.NoRoute(s.noRoute)
	r.NoMethod(s.noMethod)
	s.pagePaths = map[string]bool{}
	for _, rt := range r.Routes() {
		if rt.Method == http.MethodGet && !isAPIPath(rt.Path) && !strings.ContainsAny(rt.Path, ":*") {
			s.pagePaths[rt.Path] = true
		}
	}
	return r
}

func (s *Server) healthz(c *gin.Context) {
	if s.cfg.Health != nil {
		if err := s.cfg.Health(); err != nil {
			c.JSON(http.StatusServiceUnavailable, gin.H{"status": "database damaged", "reason": err.Error()})
			return
		}
	}
	if _, err := s.desk.Counts(c.Request.Context()); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "store unavailable"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}
