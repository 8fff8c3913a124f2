package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
)

func TestUsersAndLastAdminGuard(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	if ok, _ := s.HasAdmin(ctx); ok {
		t.Fatal("empty store has an admin")
	}
	must(t, s.CreateUser(ctx, &model.User{Name: "ann", Role: model.RoleAdmin, PasswordHash: "$argon2id$x"}))
	must(t, s.CreateUser(ctx, &model.User{Name: "bob", Role: model.RoleReader}))
	if err := s.CreateUser(ctx, &model.User{Name: "bob", Role: model.RoleReader}); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate: %v", err)
	}
	if ok, _ := s.HasAdmin(ctx); !ok {
		t.Fatal("no admin after creating one")
	}
	// The only admin cannot be demoted, disabled or removed.
	if _, err := s.UpdateUser(ctx, "ann", func(u *model.User) error { u.Role = model.RoleCurator; return nil }); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("demote last admin: %v", err)
	}
	if _, err := s.UpdateUser(ctx, "ann", func(u *model.User) error { u.Disabled = true; return nil }); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("disable last admin: %v", err)
	}
	if err := s.DeleteUser(ctx, "ann"); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("remove last admin: %v", err)
	}
	// With a second admin it works.
	if _, err := s.UpdateUser(ctx, "bob", func(u *model.User) error { u.Role = model.RoleAdmin; return nil }); err != nil {
		t.Fatal(err)
	}
	must(t, s.PutSession(ctx, &model.Session{ID: "s1", User: "ann"}))
	must(t, s.PutAPIToken(ctx, &model.APIToken{ID: "t1", Hash: "h1", User: "ann"}))
	must(t, s.DeleteUser(ctx, "ann"))
	if _, err := s.GetSession(ctx, "s1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("session survived user removal: %v", err)
	}
	if _, err := s.GetAPIToken(ctx, "h1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("token survived user removal: %v", err)
	}
	users, _ := s.ListUsers(ctx)
	if len(users) != 1 || users[0].Name != "bob" {
		t.Errorf("users: %v", users)
	}
}

func TestSessionsAndTokens(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	must(t, s.CreateUser(ctx, &model.User{Name: "ann", Role: model.RoleCurator}))
	now := time.Now()
	for i := 0; i < 3; i++ {
		must(t, s.PutSession(ctx, &model.Session{ID: fmt.Sprint("s", i), User: "ann", Created: now.Add(time.Duration(i) * time.Minute)}))
	}
	list, _ := s.ListUserSessions(ctx, "ann")
	if len(list) != 3 || list[0].ID != "s2" {
		t.Fatalf("sessions: %v", list)
	}
	n, err := s.DeleteUserSessions(ctx, "ann", "s1")
	if err != nil || n != 2 {
		t.Fatalf("delete others: %d %v", n, err)
	}
	if _, err := s.GetSession(ctx, "s1"); err != nil {
		t.Errorf("kept session gone: %v", err)
	}
	if err := s.PutAPIToken(ctx, &model.APIToken{ID: "x", Hash: "h", User: "nobody"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("token for missing user: %v", err)
	}
	must(t, s.PutAPIToken(ctx, &model.APIToken{ID: "t1", Hash: "h1", User: "ann", Name: "ci"}))
	got, err := s.GetAPIToken(ctx, "h1")
	if err != nil || got.ID != "t1" || got.Hash != "h1" {
		t.Fatalf("get token: %+v %v", got, err)
	}
	must(t, s.TouchAPIToken(ctx, "h1", now))
	if got, _ := s.GetAPIToken(ctx, "h1"); got.LastUsed.IsZero() {
		t.Error("touch did not record use")
	}
	if _, err := s.DeleteAPIToken(ctx, "bob", "t1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoked someone else's token: %v", err)
	}
	if _, err := s.DeleteAPIToken(ctx, "ann", "t1"); err != nil {
		t.Fatal(err)
	}
	if toks, _ := s.ListAPITokens(ctx, ""); len(toks) != 0 {
		t.Errorf("tokens left: %v", toks)
	}
	a, _ := s.Secret(ctx, "feed")
	b, _ := s.Secret(ctx, "feed")
	c, _ := s.Secret(ctx, "other")
	if len(a) != 32 || string(a) != string(b) || string(a) == string(c) {
		t.Error("secrets not stable per name")
	}
}

func TestAuditPagingAndFilters(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := 0; i < 25; i++ {
		actor, action := "ann", model.AuditItemApprove
		if i%5 == 0 {
			actor, action = "bob", model.AuditUserAdd
		}
		must(t, s.AppendAudit(ctx, model.AuditEvent{Time: base.Add(time.Duration(i) * time.Second), Actor: actor, Action: action, Target: fmt.Sprint(i)}))
	}
	page1, _ := s.ListAudit(ctx, AuditFilter{Limit: 10})
	if len(page1) != 10 || page1[0].Target != "24" || page1[0].Seq != 25 {
		t.Fatalf("page 1: %+v", page1[0])
	}
	page2, _ := s.ListAudit(ctx, AuditFilter{Limit: 10, Before: page1[9].Seq})
	if len(page2) != 10 || page2[0].Seq != page1[9].Seq-1 {
		t.Fatalf("page 2 starts at %d", page2[0].Seq)
	}
	bob, _ := s.ListAudit(ctx, AuditFilter{Actor: "bob"})
	if len(bob) != 5 {
		t.Errorf("actor filter: %d", len(bob))
	}
	items, _ := s.ListAudit(ctx, AuditFilter{Action: "item."})
	if len(items) != 20 {
		t.Errorf("action prefix filter: %d", len(items))
	}
	if err := s.AppendAudit(ctx, model.AuditEvent{}); err == nil {
		t.Error("empty action accepted")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
