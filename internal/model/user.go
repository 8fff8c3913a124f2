package model

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Role is what an account may do. Roles are ordered: an admin can do
// everything a curator can, and a curator everything a reader can.
type Role string

// Roles, weakest first.
const (
	RoleReader  Role = "reader"
	RoleCurator Role = "curator"
	RoleAdmin   Role = "admin"
)

// Roles lists every role, weakest first.
func Roles() []Role { return []Role{RoleReader, RoleCurator, RoleAdmin} }

// rank orders roles; 0 is "no role".
func (r Role) rank() int {
	switch r {
	case RoleReader:
		return 1
	case RoleCurator:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r.rank() > 0 }

// AtLeast reports whether r includes min. An unknown role includes nothing.
func (r Role) AtLeast(min Role) bool { return r.Valid() && r.rank() >= min.rank() }

// ParseRole reads a role name, case-insensitively.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !r.Valid() {
		return "", fmt.Errorf("unknown role %q (use reader, curator or admin)", s)
	}
	return r, nil
}

// userNameRe keeps names usable in URLs, logs and the command line without
// quoting, and rules out look-alike tricks with spaces or control characters.
var userNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// NormalizeUserName lower-cases and trims a user name and checks its form.
func NormalizeUserName(s string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	if !userNameRe.MatchString(n) {
		return "", fmt.Errorf("user name %q: use 1-64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit", s)
	}
	return n, nil
}

// User is an account. PasswordHash is a PHC string (argon2id); the clear
// password is never stored.
type User struct {
	Name         string    `json:"name"`
	Role         Role      `json:"role"`
	PasswordHash string    `json:"password_hash"`
	Disabled     bool      `json:"disabled,omitempty"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
	PasswordSet  time.Time `json:"password_set,omitzero"`
	LastLogin    time.Time `json:"last_login,omitzero"`
	// FeedGen is bumped to invalidate the user's feed token.
	FeedGen int `json:"feed_gen,omitempty"`
}

// Active reports whether the account may sign in.
func (u *User) Active() bool { return u != nil && !u.Disabled && u.Role.Valid() }

// Session is a signed-in browser. ID is the SHA-256 (hex) of the cookie
// value, so a copy of the database does not hand out live sessions.
type Session struct {
	ID        string    `json:"id"`
	User      string    `json:"user"`
	Created   time.Time `json:"created"`
	LastSeen  time.Time `json:"last_seen"`
	CSRF      string    `json:"csrf"`
	IP        string    `json:"ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
}

// APIToken is a bearer token for the JSON API. Hash is the SHA-256 (hex) of
// the token; ID is a short public handle for listing and revoking.
type APIToken struct {
	ID       string    `json:"id"`
	Hash     string    `json:"-"`
	User     string    `json:"user"`
	Name     string    `json:"name"`
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"last_used,omitzero"`
}
