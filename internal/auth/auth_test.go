package auth

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newService(t *testing.T) (*Service, *store.Bolt, *clock) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
	return New(st, Config{Params: TestParams, Now: c.Now, AccountLimit: 3, IPLimit: 5, LimitWindow: 10 * time.Minute}), st, c
}

var admin = Actor{Name: "root", IP: "127.0.0.1"}

func TestPasswordHashPHC(t *testing.T) {
	h := newHasher(TestParams, 1)
	ctx := context.Background()
	a, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := h.Hash(ctx, "correct horse battery")
	if a == b {
		t.Error("same hash twice: salt not random")
	}
	if !strings.HasPrefix(a, "$argon2id$v=19$m=1024,t=1,p=1$") || strings.Contains(a, "battery") {
		t.Fatalf("not a PHC argon2id string: %s", a)
	}
	if ok, rehash, err := h.Verify(ctx, "correct horse battery", a); !ok || rehash || err != nil {
		t.Errorf("verify: %v %v %v", ok, rehash, err)
	}
	if ok, _, _ := h.Verify(ctx, "correct horse batterz", a); ok {
		t.Error("wrong password accepted")
	}
	stronger := newHasher(Params{Memory: 2048, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	if ok, rehash, _ := stronger.Verify(ctx, "correct horse battery", a); !ok || !rehash {
		t.Error("old parameters should verify and ask for a rehash")
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=99999999,t=1,p=1$AAAA$AAAAAAAAAAAAAAAAAAAAAA"} {
		if _, _, err := h.Verify(ctx, "x", bad); err == nil {
			t.Errorf("accepted hash %q", bad)
		}
	}
}

func TestPasswordPolicy(t *testing.T) {
	for pw, ok := range map[string]bool{"short": false, "Bob.Smith1": true, "bob.smith1": true, strings.Repeat("x", 2000): false, "ten chars!": true} {
		err := CheckPassword("bob.smith", pw)
		if (err == nil) != ok {
			t.Errorf("%q: %v", pw, err)
		}
	}
	if CheckPassword("longusername", "LongUserName") == nil {
		t.Error("password equal to name accepted")
	}
}

func TestLoginSessionExpiryAndRevocation(t *testing.T) {
	s, _, c := newService(t)
	ctx := context.Background()
	if _, err := s.AddUser(ctx, admin, "Ann", model.RoleCurator, "ann's long password"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "ann", "wrong password", "10.0.0.1", "ua"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := s.Login(ctx, "nobody", "whatever123", "10.0.0.1", "ua"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("unknown user: %v", err)
	}
	l, err := s.Login(ctx, " ANN ", "ann's long password", "10.0.0.1", "ua")
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Token) < 43 || l.Session.ID == l.Token || l.Session.ID != HashToken(l.Token) {
		t.Fatalf("session token not random/hashed: %+v", l.Session)
	}
	u, _, err := s.Session(ctx, l.Token)
	if err != nil || u.Name != "ann" {
		t.Fatalf("session: %v %v", u, err)
	}
	// Used every 11 hours (under the 12h idle limit) it lives on until the
	// absolute limit of 7 days.
	elapsed := time.Duration(0)
	for elapsed+11*time.Hour <= 7*24*time.Hour {
		c.Add(11 * time.Hour)
		elapsed += 11 * time.Hour
		if _, _, err := s.Session(ctx, l.Token); err != nil {
			t.Fatalf("session in use expired after %s: %v", elapsed, err)
		}
	}
	c.Add(11 * time.Hour)
	if _, _, err := s.Session(ctx, l.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("session older than max age still valid: %v", err)
	}
	l2, _ := s.Login(ctx, "ann", "ann's long password", "10.0.0.1", "ua")
	c.Add(13 * time.Hour)
	if _, _, err := s.Session(ctx, l2.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("idle session still valid: %v", err)
	}
	// Logout and logout everywhere revoke.
	a1, _ := s.Login(ctx, "ann", "ann's long password", "10.0.0.1", "ua")
	a2, _ := s.Login(ctx, "ann", "ann's long password", "10.0.0.2", "ua")
	if err := s.Logout(ctx, Actor{Name: "ann"}, a1.Session); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Session(ctx, a1.Token); !errors.Is(err, ErrNoSession) {
		t.Error("logged-out session valid")
	}
	if _, _, err := s.Session(ctx, a2.Token); err != nil {
		t.Error("other session ended by a single logout")
	}
	a3, _ := s.Login(ctx, "ann", "ann's long password", "10.0.0.3", "ua")
	if r, err := s.LogoutEverywhere(ctx, Actor{Name: "ann"}, "ann", Also{}); err != nil || r.Sessions != 2 {
		t.Fatalf("logout everywhere: %+v %v", r, err)
	}
	for _, l := range []*Login{a2, a3} {
		if _, _, err := s.Session(ctx, l.Token); !errors.Is(err, ErrNoSession) {
			t.Error("session survived logout everywhere")
		}
	}
	// Disabling ends sessions; role changes apply at once.
	b1, _ := s.Login(ctx, "ann", "ann's long password", "10.0.0.1", "ua")
	if err := s.SetRole(ctx, admin, "ann", model.RoleReader); err != nil {
		t.Fatal(err)
	}
	if u, _, _ := s.Session(ctx, b1.Token); u.Role != model.RoleReader {
		t.Errorf("role change not applied: %s", u.Role)
	}
	if err := s.SetDisabled(ctx, admin, "ann", true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Session(ctx, b1.Token); !errors.Is(err, ErrNoSession) {
		t.Error("disabled user's session valid")
	}
	if _, err := s.Login(ctx, "ann", "ann's long password", "10.0.0.9", "ua"); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("disabled user logged in: %v", err)
	}
}

func TestLoginRateLimit(t *testing.T) {
	s, _, c := newService(t)
	ctx := context.Background()
	s.AddUser(ctx, admin, "ann", model.RoleReader, "ann's long password")
	for i := 0; i < 3; i++ {
		if _, err := s.Login(ctx, "ann", "nope", "10.0.0.1", ""); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	// Blocked now, even with the right password, without checking it.
	var rl *RateLimitError
	if _, err := s.Login(ctx, "ann", "ann's long password", "10.0.0.2", ""); !errors.As(err, &rl) || rl.RetryAfter <= 0 || rl.RetryAfter > 10*time.Minute {
		t.Fatalf("account not limited: %v", err)
	}
	c.Add(10*time.Minute + time.Second)
	if _, err := s.Login(ctx, "ann", "ann's long password", "10.0.0.2", ""); err != nil {
		t.Fatalf("limit did not expire: %v", err)
	}
	// Per IP: spraying many names from one address.
	for i := 0; i < 5; i++ {
		s.Login(ctx, "user"+string(rune('a'+i)), "nope", "10.9.9.9", "")
	}
	if _, err := s.Login(ctx, "ann", "ann's long password", "10.9.9.9", ""); !errors.As(err, &rl) {
		t.Fatalf("IP not limited: %v", err)
	}
}

func TestAPIAndFeedTokens(t *testing.T) {
	s, st, _ := newService(t)
	ctx := context.Background()
	u, _ := s.AddUser(ctx, admin, "ann", model.RoleCurator, "ann's long password")
	clear, tok, err := s.AddAPIToken(ctx, admin, "ann", "ci")
	if err != nil || !strings.HasPrefix(clear, "cst_") || tok.Hash == clear {
		t.Fatalf("add token: %v %+v", err, tok)
	}
	if got, _, err := s.APIUser(ctx, clear); err != nil || got.Name != "ann" {
		t.Fatalf("api user: %v %v", got, err)
	}
	if _, _, err := s.APIUser(ctx, clear+"x"); !errors.Is(err, ErrNoSession) {
		t.Error("altered token accepted")
	}
	if err := s.RevokeAPIToken(ctx, admin, "ann", tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.APIUser(ctx, clear); !errors.Is(err, ErrNoSession) {
		t.Error("revoked token accepted")
	}
	feed, err := s.FeedToken(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.FeedUser(ctx, feed); err != nil || got.Name != "ann" {
		t.Fatalf("feed user: %v %v", got, err)
	}
	// The last character changed (to one it is not, or the "altered"
	// token would be the real one once in 64 runs).
	alt := "A"
	if strings.HasSuffix(feed, alt) {
		alt = "B"
	}
	for _, bad := range []string{"", "ann", "ann.", "bob." + feed[4:], feed[:len(feed)-1] + alt} {
		if _, err := s.FeedUser(ctx, bad); err == nil {
			t.Errorf("feed token %q accepted", bad)
		}
	}
	if err := s.ResetFeedToken(ctx, admin, "ann"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FeedUser(ctx, feed); err == nil {
		t.Error("reset feed token still valid")
	}
	events, _ := st.ListAudit(ctx, store.AuditFilter{})
	if len(events) < 4 || events[0].Action != model.AuditFeedTokenReset {
		t.Errorf("audit: %+v", events)
	}
}

func TestSetupOnlyOnce(t *testing.T) {
	s, _, _ := newService(t)
	ctx := context.Background()
	tok, err := s.SetupToken(ctx)
	if err != nil || len(tok) < 32 {
		t.Fatalf("setup token: %q %v", tok, err)
	}
	if again, _ := s.SetupToken(ctx); again != tok {
		t.Error("setup token changed between calls")
	}
	if _, err := s.Setup(ctx, "guess", "root", "root's long password", "", ""); !errors.Is(err, ErrSetupClosed) {
		t.Errorf("wrong setup token: %v", err)
	}
	l, err := s.Setup(ctx, tok, "root", "root's long password", "", "")
	if err != nil || l.User.Role != model.RoleAdmin {
		t.Fatalf("setup: %v", err)
	}
	if _, err := s.Setup(ctx, tok, "evil", "evil's long password", "", ""); !errors.Is(err, ErrSetupClosed) {
		t.Errorf("setup token reusable: %v", err)
	}
	if tok, _ := s.SetupToken(ctx); tok != "" || s.SetupOpen(ctx, tok) {
		t.Error("setup still open with an admin")
	}
}

func TestLimiterBoundsMemory(t *testing.T) {
	now := time.Unix(0, 0)
	l := NewLimiter(2, time.Minute, func() time.Time { return now })
	l.maxKeys = 10
	for i := 0; i < 100; i++ {
		l.Fail(string(rune('a' + i)))
	}
	if len(l.fails) > 10 {
		t.Fatalf("limiter holds %d keys", len(l.fails))
	}
}

// detachedStore reads the real store without the caller's context, so a
// cancelled context reaches only the password hasher.
type detachedStore struct{ *store.Bolt }

func (d detachedStore) GetUser(_ context.Context, name string) (*model.User, error) {
	return d.Bolt.GetUser(context.Background(), name)
}

// TestUnknownUserCostsAHash checks that a login for a name that does not
// exist runs argon2 with the same parameters as a real one, so response
// time does not reveal which accounts exist. Without a clock: the only
// hashing slot is held and the context is cancelled, so a login that
// hashes fails with the context's error, and one that skipped hashing
// would answer "wrong password" instead.
func TestUnknownUserCostsAHash(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "timing.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := New(detachedStore{st}, Config{Params: TestParams, ConcurrentHashes: 1})
	ctx := context.Background()
	if _, err := s.AddUser(ctx, admin, "ann", model.RoleReader, "ann's long password"); err != nil {
		t.Fatal(err)
	}
	p, _, _, err := decodePHC(s.dummyHash(ctx))
	if err != nil || p != s.cfg.Params {
		t.Fatalf("dummy hash parameters %+v differ from the real ones %+v (%v)", p, s.cfg.Params, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	s.hash.slots <- struct{}{} // every argon2 run now waits for a slot
	defer s.hash.release()
	for _, name := range []string{"ann", "nobody", "(bad name)"} {
		if _, err := s.Login(cancelled, name, "wrong password", "10.0.0.1", ""); !errors.Is(err, context.Canceled) {
			t.Errorf("login as %q did not run argon2: %v", name, err)
		}
	}
}

// TestLoginLimitHoldsUnderConcurrentAttempts sends many wrong passwords at
// once while the hasher is busy: only as many as the limit allows may
// reach the password check; the rest are refused at the door, without
// waiting for the ones in flight.
func TestLoginLimitHoldsUnderConcurrentAttempts(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "burst.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := New(st, Config{Params: TestParams, ConcurrentHashes: 1, AccountLimit: 3, IPLimit: 1000})
	ctx := context.Background()
	if _, err := s.AddUser(ctx, admin, "ann", model.RoleReader, "ann's long password"); err != nil {
		t.Fatal(err)
	}
	s.dummyHash(ctx)
	const n = 20
	s.hash.slots <- struct{}{} // the hasher is busy: checks queue up
	results := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			_, err := s.Login(ctx, "ann", "wrong password", "10.0.0.1", "")
			results <- err
		}()
	}
	var rl *RateLimitError
	bound := time.After(20 * time.Second) // only against hanging forever
	for i := 0; i < n-3; i++ {
		select {
		case err := <-results:
			if !errors.As(err, &rl) {
				t.Fatalf("attempt beyond the limit: %v, want a rate-limit refusal", err)
			}
		case <-bound:
			t.Fatalf("only %d of %d attempts refused at the door; the rest wait to be checked", i, n-3)
		}
	}
	s.hash.release()
	for i := 0; i < 3; i++ {
		if err := <-results; !errors.Is(err, ErrBadCredentials) {
			t.Errorf("checked attempt: %v", err)
		}
	}
	// A right password is refused too now, and a success later gives back
	// the attempt it reserved from the IP's budget.
	if _, err := s.Login(ctx, "ann", "ann's long password", "10.0.0.1", ""); !errors.As(err, &rl) {
		t.Errorf("right password within the block: %v", err)
	}
}

func TestLimiterReserveAndRelease(t *testing.T) {
	now := time.Unix(1000, 0)
	l := NewLimiter(2, time.Minute, func() time.Time { return now })
	for i := 0; i < 2; i++ {
		if l.Reserve("k") != 0 {
			t.Fatalf("attempt %d refused", i+1)
		}
	}
	if l.Reserve("k") == 0 {
		t.Fatal("third attempt allowed")
	}
	l.Release("k")
	if l.Reserve("k") != 0 {
		t.Error("a released attempt still counts")
	}
	l.Release("none") // no record: nothing to do
	now = now.Add(time.Minute + time.Second)
	if l.Reserve("k") != 0 {
		t.Error("attempts outlive the window")
	}
}

// TestSignOutEverywhereAndPasswordChangeRevokeTokens: API tokens outlived
// "sign out everywhere" and the feed token a password change; both actions
// now revoke them when asked, say what they did, and audit each.
func TestSignOutEverywhereAndPasswordChangeRevokeTokens(t *testing.T) {
	s, st, _ := newService(t)
	ctx := context.Background()
	const pw = "ann's long password"
	ann := Actor{Name: "ann", IP: "10.0.0.9"}
	if _, err := s.AddUser(ctx, admin, "ann", model.RoleCurator, pw); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddUser(ctx, admin, "bob", model.RoleCurator, "bob's long password"); err != nil {
		t.Fatal(err)
	}
	bobTok, _, _ := s.AddAPIToken(ctx, admin, "bob", "bob's")
	type creds struct {
		tokens []string
		feed   string
	}
	issue := func(n int) creds {
		var c creds
		for range n {
			tok, _, err := s.AddAPIToken(ctx, ann, "ann", "script")
			if err != nil {
				t.Fatal(err)
			}
			c.tokens = append(c.tokens, tok)
		}
		u, _ := s.User(ctx, "ann")
		c.feed, _ = s.FeedToken(ctx, u)
		return c
	}
	works := func(c creds) (tokens int, feed bool) {
		for _, tok := range c.tokens {
			if _, _, err := s.APIUser(ctx, tok); err == nil {
				tokens++
			}
		}
		_, err := s.FeedUser(ctx, c.feed)
		return tokens, err == nil
	}
	audits := func(action string) int {
		evs, err := st.ListAudit(ctx, store.AuditFilter{Action: action})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range evs {
			if ev.Target == "ann" {
				n++
			}
		}
		return n
	}

	// Sign out everywhere, sessions only: tokens and feed link keep working
	// and the answer says so.
	c := issue(2)
	s.Login(ctx, "ann", pw, "10.0.0.1", "ua")
	r, err := s.LogoutEverywhere(ctx, ann, "ann", Also{})
	if err != nil || r != (Revoked{Sessions: 1, KeptAPITokens: 2}) {
		t.Fatalf("sessions only: %+v %v", r, err)
	}
	if n, feed := works(c); n != 2 || !feed {
		t.Fatalf("sessions only revoked more: %d tokens, feed %v", n, feed)
	}
	// With both: every API token of ann (not bob's) and the feed link end.
	r, err = s.LogoutEverywhere(ctx, ann, "ann", Also{APITokens: true, FeedToken: true})
	if err != nil || r != (Revoked{APITokens: 2, FeedToken: true}) {
		t.Fatalf("everything: %+v %v", r, err)
	}
	if n, feed := works(c); n != 0 || feed {
		t.Fatalf("survived sign out everywhere: %d tokens, feed %v", n, feed)
	}
	if _, _, err := s.APIUser(ctx, bobTok); err != nil {
		t.Error("another user's token was revoked")
	}
	if audits(model.AuditTokenRevoke) != 2 || audits(model.AuditFeedTokenReset) != 1 || audits(model.AuditLogoutAll) != 2 {
		t.Errorf("audit: %d token.revoke, %d feed_reset, %d logout_all", audits(model.AuditTokenRevoke), audits(model.AuditFeedTokenReset), audits(model.AuditLogoutAll))
	}

	// Password change: the other sessions end; tokens and feed as asked.
	c = issue(1)
	keep, _ := s.Login(ctx, "ann", pw, "10.0.0.1", "ua")
	other, _ := s.Login(ctx, "ann", pw, "10.0.0.2", "ua")
	r, err = s.ChangeOwnPassword(ctx, ann, pw, "ann's new long password", keep.Session.ID, Also{FeedToken: true})
	if err != nil || r != (Revoked{Sessions: 1, KeptAPITokens: 1, FeedToken: true}) {
		t.Fatalf("password change: %+v %v", r, err)
	}
	if n, feed := works(c); n != 1 || feed {
		t.Fatalf("password change with feed reset: %d tokens, feed %v", n, feed)
	}
	if _, _, err := s.Session(ctx, other.Token); !errors.Is(err, ErrNoSession) {
		t.Error("other session survived the password change")
	}
	if _, _, err := s.Session(ctx, keep.Token); err != nil {
		t.Error("the changing session was ended")
	}
	r, err = s.ChangeOwnPassword(ctx, ann, "ann's new long password", pw, keep.Session.ID, Also{APITokens: true})
	if err != nil || r != (Revoked{APITokens: 1}) {
		t.Fatalf("password change with tokens: %+v %v", r, err)
	}
	if audits(model.AuditTokenRevoke) != 3 || audits(model.AuditFeedTokenReset) != 2 {
		t.Errorf("audit after password changes: %d token.revoke, %d feed_reset", audits(model.AuditTokenRevoke), audits(model.AuditFeedTokenReset))
	}
	// A wrong current password revokes nothing.
	c = issue(1)
	if _, err := s.ChangeOwnPassword(ctx, ann, "wrong wrong wrong", "x long new password", keep.Session.ID, Also{APITokens: true, FeedToken: true}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("wrong current password: %v", err)
	}
	if n, feed := works(c); n != 1 || !feed {
		t.Error("a refused password change revoked credentials")
	}
}
