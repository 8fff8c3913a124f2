package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/model"
)

// landing is where a user goes after signing in without a "next" page.
func landing(u *model.User) string {
	if u.Role.AtLeast(model.RoleCurator) {
		return "/queue"
	}
	return "/"
}

func (s *Server) loginPage(c *gin.Context) {
	if u := currentUser(c); u != nil {
		c.Redirect(http.StatusSeeOther, safeReturn(c.Query("next"), landing(u)))
		return
	}
	s.renderLogin(c, http.StatusOK, "")
}

func (s *Server) renderLogin(c *gin.Context, status int, msg string) {
	hasAdmin, err := s.store.HasAdmin(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, status, "login", gin.H{
		"Title": "Sign in", "Error": msg, "Next": safeReturn(c.Query("next"), ""),
		"Name": c.PostForm("name"), "NoAdmin": !hasAdmin, "Notice": signedOutNotice(c),
	})
}

func (s *Server) loginSubmit(c *gin.Context) {
	l, err := s.auth.Login(c.Request.Context(), c.PostForm("name"), c.PostForm("password"), s.clientIP(c), c.Request.UserAgent())
	var rl *auth.RateLimitError
	switch {
	case errors.As(err, &rl):
		c.Header("Retry-After", strconv.Itoa(int(rl.RetryAfter.Seconds()+0.5)))
		s.renderLogin(c, http.StatusTooManyRequests, rl.Error())
		return
	case errors.Is(err, auth.ErrBadCredentials):
		c.Header("WWW-Authenticate", sessionChallenge)
		s.renderLogin(c, http.StatusUnauthorized, "Wrong user name or password.")
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	s.startSession(c, l, safeReturn(c.PostForm("next"), landing(l.User)))
}

// startSession sets the session cookie (a fresh token: no fixation) and
// drops the pre-session CSRF cookie, which the session's token replaces.
func (s *Server) startSession(c *gin.Context, l *auth.Login, next string) {
	s.setCookie(c, sessionCookie, l.Token, s.auth.MaxAge(), http.SameSiteLaxMode)
	s.setCookie(c, csrfCookie, "", 0, http.SameSiteStrictMode)
	c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) logout(c *gin.Context) {
	if ss := currentSession(c); ss != nil {
		if err := s.auth.Logout(c.Request.Context(), s.actor(c), ss); err != nil {
			s.fail(c, err)
			return
		}
	}
	s.setCookie(c, sessionCookie, "", 0, http.SameSiteLaxMode)
	c.Redirect(http.StatusSeeOther, "/login")
}

// setupPage is the one-time first-admin form. Without the live token it is
// an ordinary 404, so probing reveals nothing.
func (s *Server) setupPage(c *gin.Context) {
	if !s.auth.SetupOpen(c.Request.Context(), c.Query("token")) {
		s.notFound(c)
		return
	}
	s.render(c, http.StatusOK, "setup", gin.H{"Title": "Create the first admin", "Token": c.Query("token")})
}

func (s *Server) setupSubmit(c *gin.Context) {
	tok := c.PostForm("token")
	if !s.auth.SetupOpen(c.Request.Context(), tok) {
		s.notFound(c)
		return
	}
	if c.PostForm("password") != c.PostForm("confirm") {
		s.render(c, http.StatusUnprocessableEntity, "setup", gin.H{"Title": "Create the first admin", "Token": tok, "Error": "The passwords differ.", "Name": c.PostForm("name")})
		return
	}
	l, err := s.auth.Setup(c.Request.Context(), tok, c.PostForm("name"), c.PostForm("password"), s.clientIP(c), c.Request.UserAgent())
	switch {
	case errors.Is(err, auth.ErrSetupClosed):
		s.notFound(c)
		return
	case errors.Is(err, auth.ErrInvalid):
		s.render(c, http.StatusUnprocessableEntity, "setup", gin.H{"Title": "Create the first admin", "Token": tok, "Error": err.Error(), "Name": c.PostForm("name")})
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	s.startSession(c, l, "/admin/users")
}

// accountPage shows the user's feed links, API tokens and sessions. A
// token just created is shown once, in NewToken.
func (s *Server) accountPage(c *gin.Context) { s.renderAccount(c, http.StatusOK, gin.H{}) }

func (s *Server) renderAccount(c *gin.Context, status int, data gin.H) {
	ctx := c.Request.Context()
	u := currentUser(c)
	feed, err := s.auth.FeedToken(ctx, u)
	if err != nil {
		s.fail(c, err)
		return
	}
	tokens, err := s.auth.APITokens(ctx, u.Name)
	if err != nil {
		s.fail(c, err)
		return
	}
	sessions, err := s.auth.Sessions(ctx, u.Name)
	if err != nil {
		s.fail(c, err)
		return
	}
	data["Title"] = "Your account"
	data["FeedToken"] = feed
	data["BaseURL"] = s.baseURL(c)
	if u.Role.AtLeast(model.RoleCurator) && s.cfg.Clipper != nil {
		data["Bookmarklet"] = bookmarklet(s.baseURL(c))
	}
	data["Tokens"] = tokens
	data["Sessions"] = sessions
	data["Current"] = currentSession(c)
	data["MinPassword"] = auth.MinPasswordChars
	s.render(c, status, "account", data)
}

func (s *Server) changePassword(c *gin.Context) {
	if c.PostForm("password") != c.PostForm("confirm") {
		s.renderAccount(c, http.StatusUnprocessableEntity, gin.H{"Error": "The new passwords differ."})
		return
	}
	r, err := s.auth.ChangeOwnPassword(c.Request.Context(), s.actor(c), c.PostForm("current"), c.PostForm("password"), currentSession(c).ID, alsoRevoke(c))
	var rl *auth.RateLimitError
	if errors.As(err, &rl) {
		c.Header("Retry-After", strconv.Itoa(int(rl.RetryAfter.Seconds()+0.5)))
		s.renderAccount(c, http.StatusTooManyRequests, gin.H{"Error": rl.Error()})
		return
	}
	if errors.Is(err, auth.ErrInvalid) {
		s.renderAccount(c, http.StatusUnprocessableEntity, gin.H{"Error": err.Error()})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderAccount(c, http.StatusOK, gin.H{"Notice": fmt.Sprintf("Password changed and %s signed out. %s", countNoun(r.Sessions, "other session"), revokedText(r))})
}

// alsoRevoke reads the account page's "also revoke" checkboxes.
func alsoRevoke(c *gin.Context) auth.Also {
	return auth.Also{APITokens: c.PostForm("revoke_tokens") == "1", FeedToken: c.PostForm("reset_feed") == "1"}
}

func (s *Server) logoutEverywhere(c *gin.Context) {
	r, err := s.auth.LogoutEverywhere(c.Request.Context(), s.actor(c), currentUser(c).Name, alsoRevoke(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setCookie(c, sessionCookie, "", 0, http.SameSiteLaxMode)
	// This browser is signed out too, so the sign-in page says what
	// happened; the query carries numbers only, nothing to inject.
	q := url.Values{"out": {"all"}, "sessions": {strconv.Itoa(r.Sessions)}, "tokens": {strconv.Itoa(r.APITokens)}, "kept": {strconv.Itoa(r.KeptAPITokens)}}
	if r.FeedToken {
		q.Set("feed", "1")
	}
	c.Redirect(http.StatusSeeOther, "/login?"+q.Encode())
}

// signedOutNotice is the sign-in page's confirmation after "sign out
// everywhere", "" otherwise.
func signedOutNotice(c *gin.Context) string {
	if c.Query("out") != "all" {
		return ""
	}
	num := func(k string) int {
		n, err := strconv.Atoi(c.Query(k))
		if err != nil || n < 0 {
			return 0
		}
		return n
	}
	r := auth.Revoked{Sessions: num("sessions"), APITokens: num("tokens"), KeptAPITokens: num("kept"), FeedToken: c.Query("feed") == "1"}
	return fmt.Sprintf("Signed out everywhere (%s). %s", countNoun(r.Sessions, "session"), revokedText(r))
}

// revokedText says what happened to the API tokens and feed links.
func revokedText(r auth.Revoked) string {
	var parts []string
	switch {
	case r.APITokens > 0:
		parts = append(parts, countNoun(r.APITokens, "API token")+" revoked.")
	case r.KeptAPITokens > 0:
		verb := " still work."
		if r.KeptAPITokens == 1 {
			verb = " still works."
		}
		parts = append(parts, "Your "+countNoun(r.KeptAPITokens, "API token")+verb)
	}
	if r.FeedToken {
		parts = append(parts, "Feed links reset: give your feed reader the new ones from your account page.")
	} else {
		parts = append(parts, "Your feed links still work.")
	}
	return strings.Join(parts, " ")
}

func countNoun(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func (s *Server) addToken(c *gin.Context) {
	clear, t, err := s.auth.AddAPIToken(c.Request.Context(), s.actor(c), currentUser(c).Name, c.PostForm("name"))
	if errors.Is(err, auth.ErrInvalid) {
		s.renderAccount(c, http.StatusUnprocessableEntity, gin.H{"Error": err.Error()})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderAccount(c, http.StatusOK, gin.H{"NewToken": clear, "NewTokenID": t.ID})
}

func (s *Server) revokeToken(c *gin.Context) {
	if !s.confirmTokenRevoke(c) {
		return
	}
	err := s.auth.RevokeAPIToken(c.Request.Context(), s.actor(c), currentUser(c).Name, c.Param("id"))
	if err != nil {
		s.pageFail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/account")
}

func (s *Server) resetFeedToken(c *gin.Context) {
	if !s.confirmed(c, confirmStep{
		Title:       "Reset your feed links?",
		Consequence: "Every feed reader subscribed with your current links stops receiving the briefing until it is given the new links shown on this page.",
		Button:      "Reset my feed links",
		Back:        "/account",
	}) {
		return
	}
	if err := s.auth.ResetFeedToken(c.Request.Context(), s.actor(c), currentUser(c).Name); err != nil {
		s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/account")
}
