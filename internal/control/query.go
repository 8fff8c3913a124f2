package control

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// The filters travel as query parameters; these pairs are the one place
// that names them, for the client and the server alike.

func itemQuery(f store.ItemFilter) url.Values {
	q := url.Values{}
	set(q, "status", string(f.Status))
	set(q, "section", f.Section)
	set(q, "source", f.Source)
	set(q, "q", f.Query)
	if !f.Since.IsZero() {
		q.Set("since", f.Since.Format(time.RFC3339Nano))
	}
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Offset != 0 {
		q.Set("offset", strconv.Itoa(f.Offset))
	}
	return q
}

func parseItemQuery(q url.Values) (store.ItemFilter, error) {
	f := store.ItemFilter{Status: model.Status(q.Get("status")), Section: q.Get("section"), Source: q.Get("source"), Query: q.Get("q")}
	if f.Status != "" && !f.Status.Valid() {
		return f, fmt.Errorf("status %q: want queued, approved or rejected", f.Status)
	}
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return f, fmt.Errorf("since: %w", err)
		}
		f.Since = t
	}
	var err error
	if f.Limit, err = nonNegative(q, "limit"); err != nil {
		return f, err
	}
	f.Offset, err = nonNegative(q, "offset")
	return f, err
}

func auditQuery(f store.AuditFilter) url.Values {
	q := url.Values{}
	set(q, "user", f.Actor)
	set(q, "action", f.Action)
	if f.Before != 0 {
		q.Set("before", strconv.FormatUint(f.Before, 10))
	}
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q
}

func parseAuditQuery(q url.Values) (store.AuditFilter, error) {
	f := store.AuditFilter{Actor: q.Get("user"), Action: q.Get("action")}
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return f, fmt.Errorf("before: %w", err)
		}
		f.Before = n
	}
	var err error
	f.Limit, err = nonNegative(q, "limit")
	return f, err
}

func set(q url.Values, key, value string) {
	if value != "" {
		q.Set(key, value)
	}
}

func nonNegative(q url.Values, key string) (int, error) {
	s := q.Get(key)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s %q: want a whole number of 0 or more", key, s)
	}
	return n, nil
}
