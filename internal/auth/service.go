package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// Store is what the account logic needs from storage.
type Store interface {
	store.Accounts
	store.Auditor
}

// Errors the web layer maps to HTTP statuses.
var (
	// ErrBadCredentials covers unknown user, wrong password and disabled
	// account alike, so a login answer does not reveal which.
	ErrBadCredentials = errors.New("wrong user name or password")
	// ErrNoSession means the session or token is unknown, expired or
	// revoked, or its user was disabled.
	ErrNoSession = errors.New("not signed in")
	// ErrInvalid marks bad input (name, role, password policy).
	ErrInvalid = errors.New("invalid")
	// ErrSetupClosed means the one-time setup link is used up or wrong.
	ErrSetupClosed = errors.New("setup is not available")
)

// RateLimitError tells the caller to come back after RetryAfter.
type RateLimitError struct{ RetryAfter time.Duration }

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("too many failed logins; try again in %s", e.RetryAfter.Round(time.Second))
}

// Config tunes the service; zero fields take the defaults.
type Config struct {
	Params Params
	// IdleTimeout ends a session not used for this long (default 12h, a
	// long shift); MaxAge ends any session this long after login (7 days).
	IdleTimeout time.Duration
	MaxAge      time.Duration
	// Failed logins allowed per account and per client IP within
	// LimitWindow (defaults 10 and 50 per 15 minutes).
	AccountLimit int
	IPLimit      int
	LimitWindow  time.Duration
	// ConcurrentHashes bounds parallel argon2 runs (default 4).
	ConcurrentHashes int
	Now              func() time.Time
}

func (c *Config) defaults() {
	if c.Params == (Params{}) {
		c.Params = DefaultParams
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 12 * time.Hour
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 7 * 24 * time.Hour
	}
	if c.AccountLimit <= 0 {
		c.AccountLimit = 10
	}
	if c.IPLimit <= 0 {
		c.IPLimit = 50
	}
	if c.LimitWindow <= 0 {
		c.LimitWindow = 15 * time.Minute
	}
	if c.ConcurrentHashes <= 0 {
		c.ConcurrentHashes = 4
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Service is the account logic over a store.
type Service struct {
	st       Store
	cfg      Config
	hash     *hasher
	accounts *Limiter
	ips      *Limiter

	dummyOnce sync.Once
	dummy     string

	setupMu    sync.Mutex
	setupToken string
}

// New returns a service over st.
func New(st Store, cfg Config) *Service {
	cfg.defaults()
	return &Service{
		st:       st,
		cfg:      cfg,
		hash:     newHasher(cfg.Params, cfg.ConcurrentHashes),
		accounts: NewLimiter(cfg.AccountLimit, cfg.LimitWindow, cfg.Now),
		ips:      NewLimiter(cfg.IPLimit, cfg.LimitWindow, cfg.Now),
	}
}

// Actor is who does something, for the audit log.
type Actor struct {
	Name string
	IP   string
}

// Record appends an audit event stamped with the service clock. Failing to
// audit fails the caller: an unrecorded change is worse than none.
func (s *Service) Record(ctx context.Context, a Actor, action, target, detail string) error {
	ev := model.AuditEvent{Time: s.cfg.Now().UTC(), Actor: a.Name, Action: action, Target: target, Detail: detail, IP: a.IP}
	if err := s.st.AppendAudit(ctx, ev); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// Login is a successful sign-in: the user, the stored session and the
// cookie value (shown to nobody else, stored only hashed).
type Login struct {
	User    *model.User
	Session *model.Session
	Token   string
}

// Login checks a password. Unknown users cost the same argon2 run as known
// ones (against a dummy hash), so timing does not reveal who has an
// account. Attempts are refused with *RateLimitError before any check once
// the account or the IP has too many recent failures.
func (s *Service) Login(ctx context.Context, name, password, ip, userAgent string) (*Login, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	acctKey, ipKey := "u:"+name, "ip:"+ip
	// Each attempt counts as a failure from the start (see Reserve) and is
	// given back when it succeeds or could not be checked.
	if wait := s.accounts.Reserve(acctKey); wait > 0 {
		return nil, &RateLimitError{RetryAfter: wait}
	}
	if wait := s.ips.Reserve(ipKey); wait > 0 {
		s.accounts.Release(acctKey)
		return nil, &RateLimitError{RetryAfter: wait}
	}
	unchecked := func() { s.accounts.Release(acctKey); s.ips.Release(ipKey) }
	u, err := s.st.GetUser(ctx, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		unchecked()
		return nil, fmt.Errorf("login: %w", err)
	}
	phc := s.dummyHash(ctx)
	if u != nil && u.PasswordHash != "" {
		phc = u.PasswordHash
	}
	ok, rehash, err := s.hash.Verify(ctx, password, phc)
	if err != nil {
		unchecked()
		return nil, fmt.Errorf("login %s: %w", name, err)
	}
	if !ok || u == nil || !u.Active() {
		if err := s.Record(ctx, Actor{Name: auditName(name), IP: ip}, model.AuditLoginFailed, auditName(name), ""); err != nil {
			return nil, err
		}
		return nil, ErrBadCredentials
	}
	s.accounts.Reset(acctKey)
	s.ips.Release(ipKey)
	now := s.cfg.Now().UTC()
	var newHash string
	if rehash {
		if newHash, err = s.hash.Hash(ctx, password); err != nil {
			return nil, err
		}
	}
	u, err = s.st.UpdateUser(ctx, u.Name, func(u *model.User) error {
		u.LastLogin = now
		if newHash != "" {
			u.PasswordHash = newHash
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("login %s: %w", name, err)
	}
	l, err := s.newSession(ctx, u, ip, userAgent)
	if err != nil {
		return nil, err
	}
	return l, s.Record(ctx, Actor{Name: u.Name, IP: ip}, model.AuditLogin, u.Name, "")
}

// auditName keeps whatever was typed into the name field from flooding
// the log; it never holds the password field.
func auditName(name string) string {
	if n, err := model.NormalizeUserName(name); err == nil {
		return n
	}
	return "(invalid name)"
}

func (s *Service) dummyHash(ctx context.Context) string {
	s.dummyOnce.Do(func() {
		pw, err := newSecret(16)
		if err == nil {
			s.dummy, err = s.hash.Hash(ctx, pw)
		}
		if err != nil {
			// Still a well-formed hash with current parameters; the key
			// is unmatchable (all zero would need a preimage).
			s.dummy = encodePHC(s.cfg.Params, make([]byte, s.cfg.Params.SaltLen), make([]byte, s.cfg.Params.KeyLen))
		}
	})
	return s.dummy
}

func (s *Service) newSession(ctx context.Context, u *model.User, ip, ua string) (*Login, error) {
	tok, err := newSecret(32)
	if err != nil {
		return nil, err
	}
	csrf, err := newSecret(32)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now().UTC()
	if len(ua) > 200 {
		ua = ua[:200]
	}
	ss := &model.Session{ID: HashToken(tok), User: u.Name, Created: now, LastSeen: now, CSRF: csrf, IP: ip, UserAgent: ua}
	if err := s.st.PutSession(ctx, ss); err != nil {
		return nil, fmt.Errorf("new session: %w", err)
	}
	return &Login{User: u, Session: ss, Token: tok}, nil
}

// touchEvery limits LastSeen writes to one per minute per session: every
// write is an fsync, and idle expiry needs no finer grain.
const touchEvery = time.Minute

// Session resolves a session cookie. Expired sessions are deleted. The
// user is read fresh, so a role change or disabling applies at once.
func (s *Service) Session(ctx context.Context, token string) (*model.User, *model.Session, error) {
	if token == "" {
		return nil, nil, ErrNoSession
	}
	ss, err := s.st.GetSession(ctx, HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrNoSession
	}
	if err != nil {
		return nil, nil, fmt.Errorf("session: %w", err)
	}
	now := s.cfg.Now().UTC()
	if now.Sub(ss.LastSeen) > s.cfg.IdleTimeout || now.Sub(ss.Created) > s.cfg.MaxAge {
		if err := s.st.DeleteSession(ctx, ss.ID); err != nil {
			return nil, nil, fmt.Errorf("expire session: %w", err)
		}
		return nil, nil, ErrNoSession
	}
	u, err := s.activeUser(ctx, ss.User)
	if err != nil {
		return nil, nil, err
	}
	if now.Sub(ss.LastSeen) > touchEvery {
		ss.LastSeen = now
		if err := s.st.PutSession(ctx, ss); err != nil {
			return nil, nil, fmt.Errorf("touch session: %w", err)
		}
	}
	return u, ss, nil
}

func (s *Service) activeUser(ctx context.Context, name string) (*model.User, error) {
	u, err := s.st.GetUser(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("user %s: %w", name, err)
	}
	if !u.Active() {
		return nil, ErrNoSession
	}
	return u, nil
}

// Logout revokes one session.
func (s *Service) Logout(ctx context.Context, a Actor, ss *model.Session) error {
	if err := s.st.DeleteSession(ctx, ss.ID); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return s.Record(ctx, a, model.AuditLogout, ss.User, "")
}

// Also names the credentials besides sessions that signing out everywhere
// or changing a password revokes as well. Sessions alone are not enough
// when whoever had one may have created an API token (which outlives it)
// or copied the feed link from the account page.
type Also struct {
	APITokens bool // revoke every API token of the user
	FeedToken bool // reset the user's feed links
}

// Revoked reports what a sign-out everywhere or password change ended, and
// what it left working.
type Revoked struct {
	Sessions      int
	APITokens     int  // revoked
	KeptAPITokens int  // still valid (Also.APITokens was off)
	FeedToken     bool // feed links reset
}

// LogoutEverywhere revokes every session of user, including the current,
// and whatever also names.
func (s *Service) LogoutEverywhere(ctx context.Context, a Actor, user string, also Also) (Revoked, error) {
	var r Revoked
	n, err := s.st.DeleteUserSessions(ctx, user, "")
	if err != nil {
		return r, fmt.Errorf("logout everywhere: %w", err)
	}
	r.Sessions = n
	if err := s.Record(ctx, a, model.AuditLogoutAll, user, strconv.Itoa(n)+" sessions"); err != nil {
		return r, err
	}
	return r, s.revokeAlso(ctx, a, user, also, "sign out everywhere", &r)
}

// revokeAlso revokes the API tokens and/or resets the feed token of user,
// recording each in the audit log with why, and fills in r.
func (s *Service) revokeAlso(ctx context.Context, a Actor, user string, also Also, why string, r *Revoked) error {
	toks, err := s.st.ListAPITokens(ctx, user)
	if err != nil {
		return fmt.Errorf("%s: list API tokens: %w", why, err)
	}
	if !also.APITokens {
		r.KeptAPITokens = len(toks)
	} else {
		for _, t := range toks {
			if _, err := s.st.DeleteAPIToken(ctx, user, t.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%s: revoke API token %s: %w", why, t.ID, err)
			}
			r.APITokens++
			if err := s.Record(ctx, a, model.AuditTokenRevoke, user, t.ID+" (with "+why+")"); err != nil {
				return err
			}
		}
	}
	if also.FeedToken {
		if _, err := s.st.UpdateUser(ctx, user, func(u *model.User) error {
			u.FeedGen++
			return nil
		}); err != nil {
			return fmt.Errorf("%s: reset feed token: %w", why, err)
		}
		r.FeedToken = true
		if err := s.Record(ctx, a, model.AuditFeedTokenReset, user, "with "+why); err != nil {
			return err
		}
	}
	return nil
}

// Sessions lists a user's sessions.
func (s *Service) Sessions(ctx context.Context, user string) ([]*model.Session, error) {
	return s.st.ListUserSessions(ctx, user)
}

// PruneSessions deletes expired sessions; serve calls it now and then.
func (s *Service) PruneSessions(ctx context.Context) (int, error) {
	now := s.cfg.Now().UTC()
	return s.st.PruneSessions(ctx, func(ss *model.Session) bool {
		return now.Sub(ss.LastSeen) > s.cfg.IdleTimeout || now.Sub(ss.Created) > s.cfg.MaxAge
	})
}

// AddUser creates an account.
func (s *Service) AddUser(ctx context.Context, a Actor, name string, role model.Role, password string) (*model.User, error) {
	name, err := model.NormalizeUserName(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if !role.Valid() {
		return nil, fmt.Errorf("%w: unknown role %q", ErrInvalid, role)
	}
	if err := CheckPassword(name, password); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	phc, err := s.hash.Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now().UTC()
	u := &model.User{Name: name, Role: role, PasswordHash: phc, Created: now, Updated: now, PasswordSet: now}
	if err := s.st.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, s.Record(ctx, a, model.AuditUserAdd, name, string(role))
}

// User returns one account.
func (s *Service) User(ctx context.Context, name string) (*model.User, error) {
	return s.st.GetUser(ctx, name)
}

// Users lists accounts by name.
func (s *Service) Users(ctx context.Context) ([]*model.User, error) {
	return s.st.ListUsers(ctx)
}

// SetPassword replaces a password and signs the user out everywhere except
// the session keep (the one changing its own password; may be "").
func (s *Service) SetPassword(ctx context.Context, a Actor, name, password, keep string) error {
	_, err := s.setPassword(ctx, a, name, password, keep)
	return err
}

// setPassword is SetPassword reporting how many sessions it ended.
func (s *Service) setPassword(ctx context.Context, a Actor, name, password, keep string) (int, error) {
	if err := CheckPassword(name, password); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	phc, err := s.hash.Hash(ctx, password)
	if err != nil {
		return 0, err
	}
	now := s.cfg.Now().UTC()
	if _, err := s.st.UpdateUser(ctx, name, func(u *model.User) error {
		u.PasswordHash, u.PasswordSet, u.Updated = phc, now, now
		return nil
	}); err != nil {
		return 0, fmt.Errorf("set password %s: %w", name, err)
	}
	n, err := s.st.DeleteUserSessions(ctx, name, keep)
	if err != nil {
		return 0, fmt.Errorf("set password %s: revoke sessions: %w", name, err)
	}
	return n, s.Record(ctx, a, model.AuditUserPassword, name, "")
}

// ChangeOwnPassword needs the current password, so a borrowed unlocked
// browser cannot lock the owner out. Wrong guesses count against the
// account like failed sign-ins, so the form is no way around the limit.
// It signs out every other session, and revokes what also names.
func (s *Service) ChangeOwnPassword(ctx context.Context, a Actor, current, password, keep string, also Also) (Revoked, error) {
	var r Revoked
	key := "u:" + a.Name
	if wait := s.accounts.Reserve(key); wait > 0 {
		return r, &RateLimitError{RetryAfter: wait}
	}
	u, err := s.st.GetUser(ctx, a.Name)
	if err != nil {
		s.accounts.Release(key)
		return r, fmt.Errorf("change password: %w", err)
	}
	ok, _, err := s.hash.Verify(ctx, current, u.PasswordHash)
	if err != nil {
		s.accounts.Release(key)
		return r, fmt.Errorf("change password: %w", err)
	}
	if !ok {
		return r, fmt.Errorf("%w: current password is wrong", ErrInvalid)
	}
	s.accounts.Release(key)
	if r.Sessions, err = s.setPassword(ctx, a, a.Name, password, keep); err != nil {
		return r, err
	}
	return r, s.revokeAlso(ctx, a, a.Name, also, "password change", &r)
}

// SetRole changes a user's role; it applies to their live sessions and
// tokens at once, since those read the user on every request.
func (s *Service) SetRole(ctx context.Context, a Actor, name string, role model.Role) error {
	if !role.Valid() {
		return fmt.Errorf("%w: unknown role %q", ErrInvalid, role)
	}
	if _, err := s.st.UpdateUser(ctx, name, func(u *model.User) error {
		u.Role, u.Updated = role, s.cfg.Now().UTC()
		return nil
	}); err != nil {
		return fmt.Errorf("set role %s: %w", name, err)
	}
	return s.Record(ctx, a, model.AuditUserRole, name, string(role))
}

// SetDisabled disables or re-enables an account. Disabling also ends the
// user's sessions; their API tokens stop working while disabled.
func (s *Service) SetDisabled(ctx context.Context, a Actor, name string, disabled bool) error {
	if _, err := s.st.UpdateUser(ctx, name, func(u *model.User) error {
		u.Disabled, u.Updated = disabled, s.cfg.Now().UTC()
		return nil
	}); err != nil {
		return fmt.Errorf("disable %s: %w", name, err)
	}
	action := model.AuditUserEnable
	if disabled {
		action = model.AuditUserDisable
		if _, err := s.st.DeleteUserSessions(ctx, name, ""); err != nil {
			return fmt.Errorf("disable %s: %w", name, err)
		}
	}
	return s.Record(ctx, a, action, name, "")
}

// RemoveUser deletes an account with its sessions and tokens.
func (s *Service) RemoveUser(ctx context.Context, a Actor, name string) error {
	if err := s.st.DeleteUser(ctx, name); err != nil {
		return fmt.Errorf("remove user %s: %w", name, err)
	}
	return s.Record(ctx, a, model.AuditUserRemove, name, "")
}

// apiTokenPrefix makes Clipsheet tokens recognisable to secret scanners
// and to people reading a config file.
const apiTokenPrefix = "cst_"

// AddAPIToken creates a bearer token for user and returns it in clear;
// this is the only time it can be seen.
func (s *Service) AddAPIToken(ctx context.Context, a Actor, user, name string) (string, *model.APIToken, error) {
	name = strings.TrimSpace(name)
	if len(name) > 100 {
		return "", nil, fmt.Errorf("%w: token name longer than 100 bytes", ErrInvalid)
	}
	secret, err := newSecret(32)
	if err != nil {
		return "", nil, err
	}
	id, err := newSecret(6)
	if err != nil {
		return "", nil, err
	}
	clear := apiTokenPrefix + secret
	t := &model.APIToken{ID: id, Hash: HashToken(clear), User: user, Name: name, Created: s.cfg.Now().UTC()}
	if err := s.st.PutAPIToken(ctx, t); err != nil {
		return "", nil, fmt.Errorf("add token for %s: %w", user, err)
	}
	return clear, t, s.Record(ctx, a, model.AuditTokenAdd, user, id+" "+name)
}

// APITokens lists a user's tokens ("" for all).
func (s *Service) APITokens(ctx context.Context, user string) ([]*model.APIToken, error) {
	return s.st.ListAPITokens(ctx, user)
}

// RevokeAPIToken deletes token id of owner ("" for any owner: admins).
func (s *Service) RevokeAPIToken(ctx context.Context, a Actor, owner, id string) error {
	t, err := s.st.DeleteAPIToken(ctx, owner, id)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	return s.Record(ctx, a, model.AuditTokenRevoke, t.User, id)
}

// APIUser resolves a bearer token to its (active) user.
func (s *Service) APIUser(ctx context.Context, bearer string) (*model.User, *model.APIToken, error) {
	if !strings.HasPrefix(bearer, apiTokenPrefix) {
		return nil, nil, ErrNoSession
	}
	h := HashToken(bearer)
	t, err := s.st.GetAPIToken(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrNoSession
	}
	if err != nil {
		return nil, nil, fmt.Errorf("api token: %w", err)
	}
	u, err := s.activeUser(ctx, t.User)
	if err != nil {
		return nil, nil, err
	}
	now := s.cfg.Now().UTC()
	if now.Sub(t.LastUsed) > touchEvery {
		if err := s.st.TouchAPIToken(ctx, h, now); err != nil {
			return nil, nil, fmt.Errorf("api token: %w", err)
		}
	}
	return u, t, nil
}

// Feed tokens are HMACs of the user name and a generation counter under a
// server secret rather than stored random tokens: the account page can
// show the feed URL at any time, and bumping the generation revokes it.
// They grant only reading the briefing, which a copy of the database (the
// only place the secret lives) reveals anyway.
func (s *Service) feedMAC(ctx context.Context, u *model.User) (string, error) {
	key, err := s.st.Secret(ctx, "feed")
	if err != nil {
		return "", fmt.Errorf("feed token: %w", err)
	}
	return mac(key, "feed\x00"+u.Name+"\x00"+strconv.Itoa(u.FeedGen)), nil
}

// FeedToken returns the user's current feed token.
func (s *Service) FeedToken(ctx context.Context, u *model.User) (string, error) {
	m, err := s.feedMAC(ctx, u)
	if err != nil {
		return "", err
	}
	return u.Name + "." + m, nil
}

// FeedUser resolves a feed token to its (active) user.
func (s *Service) FeedUser(ctx context.Context, token string) (*model.User, error) {
	i := strings.LastIndexByte(token, '.')
	if i <= 0 {
		return nil, ErrNoSession
	}
	u, err := s.activeUser(ctx, token[:i])
	if err != nil {
		return nil, err
	}
	want, err := s.feedMAC(ctx, u)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(token[i+1:])) != 1 {
		return nil, ErrNoSession
	}
	return u, nil
}

// ResetFeedToken invalidates the user's feed token and issues a new one.
func (s *Service) ResetFeedToken(ctx context.Context, a Actor, name string) error {
	if _, err := s.st.UpdateUser(ctx, name, func(u *model.User) error {
		u.FeedGen++
		return nil
	}); err != nil {
		return fmt.Errorf("reset feed token %s: %w", name, err)
	}
	return s.Record(ctx, a, model.AuditFeedTokenReset, name, "")
}

// SetupToken returns the one-time first-admin setup token, creating it on
// first call, or "" once an active admin exists. It lives only in memory:
// a restart prints a new one, and nothing guessable is ever accepted.
func (s *Service) SetupToken(ctx context.Context) (string, error) {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	has, err := s.st.HasAdmin(ctx)
	if err != nil {
		return "", fmt.Errorf("setup: %w", err)
	}
	if has {
		s.setupToken = ""
		return "", nil
	}
	if s.setupToken == "" {
		if s.setupToken, err = newSecret(24); err != nil {
			return "", err
		}
	}
	return s.setupToken, nil
}

// SetupOpen reports whether token is the live setup token.
func (s *Service) SetupOpen(ctx context.Context, token string) bool {
	s.setupMu.Lock()
	live := s.setupToken
	s.setupMu.Unlock()
	if live == "" || subtle.ConstantTimeCompare([]byte(live), []byte(token)) != 1 {
		return false
	}
	has, err := s.st.HasAdmin(ctx)
	return err == nil && !has
}

// Setup creates the first admin with the setup token and signs them in.
// The lock serialises concurrent attempts so only one admin is created
// through the link.
func (s *Service) Setup(ctx context.Context, token, name, password, ip, ua string) (*Login, error) {
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	if s.setupToken == "" || subtle.ConstantTimeCompare([]byte(s.setupToken), []byte(token)) != 1 {
		return nil, ErrSetupClosed
	}
	has, err := s.st.HasAdmin(ctx)
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	if has {
		s.setupToken = ""
		return nil, ErrSetupClosed
	}
	u, err := s.AddUser(ctx, Actor{Name: "(setup)", IP: ip}, name, model.RoleAdmin, password)
	if err != nil {
		return nil, err
	}
	s.setupToken = ""
	if err := s.Record(ctx, Actor{Name: u.Name, IP: ip}, model.AuditSetup, u.Name, ""); err != nil {
		return nil, err
	}
	return s.newSession(ctx, u, ip, ua)
}

// MaxAge is the absolute session lifetime, for the cookie's Max-Age.
func (s *Service) MaxAge() time.Duration { return s.cfg.MaxAge }
