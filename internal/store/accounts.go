package store

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/clipsheet/clipsheet/internal/model"
)

// Account records live in their own buckets; Open creates them on first
// use, so older files need no migration.
var (
	bucketUsers     = []byte("users")
	bucketSessions  = []byte("sessions")
	bucketAPITokens = []byte("api_tokens")
	secretPrefix    = "secret:"
)

// Account errors.
var (
	// ErrExists is returned when creating a record whose key is taken.
	ErrExists = errors.New("already exists")
	// ErrLastAdmin refuses a change that would leave no active admin once
	// one existed: nobody could manage users any more.
	ErrLastAdmin = errors.New("would leave no active admin")
)

// Accounts stores users, sessions, API tokens and server secrets. Bolt
// implements it; it is kept apart from Store so code that only handles
// items does not depend on it.
type Accounts interface {
	CreateUser(ctx context.Context, u *model.User) error
	GetUser(ctx context.Context, name string) (*model.User, error)
	// UpdateUser applies fn inside one transaction. It fails with
	// ErrLastAdmin when the change leaves no active admin.
	UpdateUser(ctx context.Context, name string, fn func(*model.User) error) (*model.User, error)
	// DeleteUser removes the user with their sessions and API tokens.
	DeleteUser(ctx context.Context, name string) error
	ListUsers(ctx context.Context) ([]*model.User, error)
	// HasAdmin reports whether an active admin exists.
	HasAdmin(ctx context.Context) (bool, error)

	PutSession(ctx context.Context, s *model.Session) error
	GetSession(ctx context.Context, id string) (*model.Session, error)
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions removes every session of user except the one with
	// ID except (may be ""), returning how many went.
	DeleteUserSessions(ctx context.Context, user, except string) (int, error)
	ListUserSessions(ctx context.Context, user string) ([]*model.Session, error)
	// PruneSessions removes sessions for which expired returns true.
	PruneSessions(ctx context.Context, expired func(*model.Session) bool) (int, error)

	PutAPIToken(ctx context.Context, t *model.APIToken) error
	// GetAPIToken finds a token by the SHA-256 (hex) of its secret.
	GetAPIToken(ctx context.Context, hash string) (*model.APIToken, error)
	ListAPITokens(ctx context.Context, user string) ([]*model.APIToken, error)
	// DeleteAPIToken removes the token with public ID id owned by user
	// ("" for any owner).
	DeleteAPIToken(ctx context.Context, user, id string) (*model.APIToken, error)
	TouchAPIToken(ctx context.Context, hash string, t time.Time) error

	// Secret returns the named random server secret (32 bytes), creating it
	// on first use.
	Secret(ctx context.Context, name string) ([]byte, error)
}

var _ Accounts = (*Bolt)(nil)

func getUser(tx *bolt.Tx, name string) (*model.User, error) {
	v := tx.Bucket(bucketUsers).Get([]byte(name))
	if v == nil {
		return nil, fmt.Errorf("user %s: %w", name, ErrNotFound)
	}
	var u model.User
	if err := json.Unmarshal(v, &u); err != nil {
		return nil, fmt.Errorf("decode user %s: %w", name, err)
	}
	return &u, nil
}

func putJSON(b *bolt.Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return b.Put([]byte(key), data)
}

func isActiveAdmin(u *model.User) bool { return u.Active() && u.Role == model.RoleAdmin }

// activeAdmins counts active admins, leaving out the user named skip.
func activeAdmins(tx *bolt.Tx, skip string) (int, error) {
	n := 0
	err := tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
		if string(k) == skip {
			return nil
		}
		var u model.User
		if err := json.Unmarshal(v, &u); err != nil {
			return fmt.Errorf("decode user %s: %w", k, err)
		}
		if isActiveAdmin(&u) {
			n++
		}
		return nil
	})
	return n, err
}

// CreateUser implements Accounts.
func (s *Bolt) CreateUser(ctx context.Context, u *model.User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if u.Name == "" || !u.Role.Valid() {
		return fmt.Errorf("create user %q: name and valid role required", u.Name)
	}
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUsers)
		if b.Get([]byte(u.Name)) != nil {
			return ErrExists
		}
		return putJSON(b, u.Name, u)
	})
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.Name, err)
	}
	return nil
}

// GetUser implements Accounts.
func (s *Bolt) GetUser(ctx context.Context, name string) (*model.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var u *model.User
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		u, err = getUser(tx, name)
		return err
	})
	return u, err
}

// UpdateUser implements Accounts.
func (s *Bolt) UpdateUser(ctx context.Context, name string, fn func(*model.User) error) (*model.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out *model.User
	err := s.update(func(tx *bolt.Tx) error {
		u, err := getUser(tx, name)
		if err != nil {
			return err
		}
		wasAdmin := isActiveAdmin(u)
		if err := fn(u); err != nil {
			return err
		}
		if u.Name != name {
			return fmt.Errorf("update user %s: name cannot change", name)
		}
		if !u.Role.Valid() {
			return fmt.Errorf("update user %s: invalid role %q", name, u.Role)
		}
		if wasAdmin && !isActiveAdmin(u) {
			n, err := activeAdmins(tx, name)
			if err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("update user %s: %w", name, ErrLastAdmin)
			}
		}
		out = u
		return putJSON(tx.Bucket(bucketUsers), name, u)
	})
	return out, err
}

// DeleteUser implements Accounts.
func (s *Bolt) DeleteUser(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error {
		u, err := getUser(tx, name)
		if err != nil {
			return err
		}
		if isActiveAdmin(u) {
			n, err := activeAdmins(tx, name)
			if err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("remove user %s: %w", name, ErrLastAdmin)
			}
		}
		if err := deleteWhere(tx.Bucket(bucketSessions), func(v []byte) (bool, error) {
			var ss model.Session
			err := json.Unmarshal(v, &ss)
			return ss.User == name, err
		}); err != nil {
			return err
		}
		if err := deleteWhere(tx.Bucket(bucketAPITokens), func(v []byte) (bool, error) {
			var t model.APIToken
			err := json.Unmarshal(v, &t)
			return t.User == name, err
		}); err != nil {
			return err
		}
		return tx.Bucket(bucketUsers).Delete([]byte(name))
	})
}

// deleteWhere deletes the keys whose value matches; keys are collected
// first because bbolt cursors must not delete while iterating with ForEach.
func deleteWhere(b *bolt.Bucket, match func(v []byte) (bool, error)) error {
	var keys [][]byte
	if err := b.ForEach(func(k, v []byte) error {
		ok, err := match(v)
		if err != nil {
			return fmt.Errorf("decode %s: %w", k, err)
		}
		if ok {
			keys = append(keys, append([]byte(nil), k...))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// ListUsers implements Accounts, sorted by name.
func (s *Bolt) ListUsers(ctx context.Context) ([]*model.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []*model.User
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
			var u model.User
			if err := json.Unmarshal(v, &u); err != nil {
				return fmt.Errorf("decode user %s: %w", k, err)
			}
			out = append(out, &u)
			return nil
		})
	})
	return out, err
}

// HasAdmin implements Accounts.
func (s *Bolt) HasAdmin(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	var n int
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		n, err = activeAdmins(tx, "")
		return err
	})
	return n > 0, err
}

// PutSession implements Accounts.
func (s *Bolt) PutSession(ctx context.Context, ss *model.Session) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ss.ID == "" || ss.User == "" {
		return errors.New("put session: id and user required")
	}
	return s.update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketSessions), ss.ID, ss)
	})
}

// GetSession implements Accounts.
func (s *Bolt) GetSession(ctx context.Context, id string) (*model.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var ss *model.Session
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketSessions).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("session: %w", ErrNotFound)
		}
		ss = &model.Session{}
		return json.Unmarshal(v, ss)
	})
	return ss, err
}

// DeleteSession implements Accounts. Deleting a missing session is not an
// error: logging out twice is fine.
func (s *Bolt) DeleteSession(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).Delete([]byte(id))
	})
}

// DeleteUserSessions implements Accounts.
func (s *Bolt) DeleteUserSessions(ctx context.Context, user, except string) (int, error) {
	return s.PruneSessions(ctx, func(ss *model.Session) bool {
		return ss.User == user && ss.ID != except
	})
}

// PruneSessions implements Accounts.
func (s *Bolt) PruneSessions(ctx context.Context, expired func(*model.Session) bool) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	err := s.update(func(tx *bolt.Tx) error {
		n = 0
		return deleteWhere(tx.Bucket(bucketSessions), func(v []byte) (bool, error) {
			var ss model.Session
			if err := json.Unmarshal(v, &ss); err != nil {
				return false, err
			}
			if expired(&ss) {
				n++
				return true, nil
			}
			return false, nil
		})
	})
	return n, err
}

// ListUserSessions implements Accounts, newest first.
func (s *Bolt) ListUserSessions(ctx context.Context, user string) ([]*model.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []*model.Session
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
			var ss model.Session
			if err := json.Unmarshal(v, &ss); err != nil {
				return fmt.Errorf("decode session: %w", err)
			}
			if ss.User == user {
				out = append(out, &ss)
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, err
}

// apiTokenRecord is how a token is stored: the model hides Hash from JSON
// so it never leaks through the API, but the store needs it.
type apiTokenRecord struct {
	model.APIToken
	Hash string `json:"hash"`
}

func decodeToken(v []byte) (*model.APIToken, error) {
	var r apiTokenRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("decode api token: %w", err)
	}
	t := r.APIToken
	t.Hash = r.Hash
	return &t, nil
}

// PutAPIToken implements Accounts.
func (s *Bolt) PutAPIToken(ctx context.Context, t *model.APIToken) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t.Hash == "" || t.ID == "" || t.User == "" {
		return errors.New("put api token: hash, id and user required")
	}
	err := s.update(func(tx *bolt.Tx) error {
		if _, err := getUser(tx, t.User); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bucketAPITokens), t.Hash, apiTokenRecord{APIToken: *t, Hash: t.Hash})
	})
	if err != nil {
		return fmt.Errorf("put api token: %w", err)
	}
	return nil
}

// GetAPIToken implements Accounts.
func (s *Bolt) GetAPIToken(ctx context.Context, hash string) (*model.APIToken, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var t *model.APIToken
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAPITokens).Get([]byte(hash))
		if v == nil {
			return fmt.Errorf("api token: %w", ErrNotFound)
		}
		var err error
		t, err = decodeToken(v)
		return err
	})
	return t, err
}

// ListAPITokens implements Accounts; user "" lists everyone's.
func (s *Bolt) ListAPITokens(ctx context.Context, user string) ([]*model.APIToken, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []*model.APIToken
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAPITokens).ForEach(func(_, v []byte) error {
			t, err := decodeToken(v)
			if err != nil {
				return err
			}
			if user == "" || t.User == user {
				out = append(out, t)
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, err
}

// DeleteAPIToken implements Accounts.
func (s *Bolt) DeleteAPIToken(ctx context.Context, user, id string) (*model.APIToken, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var found *model.APIToken
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAPITokens)
		err := b.ForEach(func(_, v []byte) error {
			t, err := decodeToken(v)
			if err != nil {
				return err
			}
			if t.ID == id && (user == "" || t.User == user) {
				found = t
			}
			return nil
		})
		if err != nil {
			return err
		}
		if found == nil {
			return fmt.Errorf("api token %s: %w", id, ErrNotFound)
		}
		return b.Delete([]byte(found.Hash))
	})
	return found, err
}

// TouchAPIToken implements Accounts.
func (s *Bolt) TouchAPIToken(ctx context.Context, hash string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAPITokens)
		v := b.Get([]byte(hash))
		if v == nil {
			return nil
		}
		t, err := decodeToken(v)
		if err != nil {
			return err
		}
		t.LastUsed = at
		return putJSON(b, hash, apiTokenRecord{APIToken: *t, Hash: hash})
	})
}

// Secret implements Accounts.
func (s *Bolt) Secret(ctx context.Context, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key := []byte(secretPrefix + name)
	var out []byte
	err := s.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(key); v != nil {
			out = append([]byte(nil), v...)
		}
		return nil
	})
	if err != nil || out != nil {
		return out, err
	}
	err = s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		// Another writer may have created it since the read above.
		if v := b.Get(key); v != nil {
			out = append([]byte(nil), v...)
			return nil
		}
		out = make([]byte, 32)
		if _, err := rand.Read(out); err != nil {
			return err
		}
		return b.Put(key, out)
	})
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return out, nil
}
