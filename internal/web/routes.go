package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/model"
)

func (s *Server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, err any) {
		s.log.Error("panic in handler", "path", c.Request.URL.Path, "err", err)
		c.AbortWithStatus(http.StatusInternalServerError)
	}))
	r.Use(s.requestLog, s.securityHeaders)
	if err := r.SetTrustedProxies(s.cfg.Settings.TrustedProxies); err != nil {
		s.log.Warn("bad trusted_proxies setting", "err", err)
	}
	r.HandleMethodNotAllowed = true

	r.GET("/healthz", s.healthz)
	r.StaticFS("/static", http.FS(s.static))

	pages := r.Group("/", s.csrf)
	pages.GET("/", s.briefingPage)
	pages.GET("/queue", s.queuePage)
	pages.POST("/items/:id/approve", s.decideHandler(model.StatusApproved))
	pages.POST("/items/:id/reject", s.decideHandler(model.StatusRejected))
	pages.POST("/items/:id/requeue", s.decideHandler(model.StatusQueued))
	pages.POST("/items/:id/edit", s.editHandler)

	r.NoRoute(func(c *gin.Context) {
		c.String(http.StatusNotFound, "Not found")
	})
	return r
}

func (s *Server) healthz(c *gin.Context) {
	if _, err := s.desk.Counts(c.Request.Context()); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "store unavailable"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}
