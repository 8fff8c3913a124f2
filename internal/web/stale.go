package web

// Item versions on the desk: the queue's forms carry the version of the item
// the curator saw, the API takes it in If-Match (or a decision's body), and
// a decision or edit based on a version someone else changed since is
// refused with what changed ("already rejected by demo 2 min ago") and a way
// to apply it anyway on the current version.

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/clipsheet/clipsheet/internal/curate"
	"github.com/clipsheet/clipsheet/internal/model"
)

// formVersion reads a form's hidden version field; a form without one (a
// script, a page from before versions) applies to whatever is stored.
func formVersion(c *gin.Context) (int64, error) {
	v := c.PostForm("version")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%w: version: want the item's version, a whole number from 1", curate.ErrInvalid)
	}
	return n, nil
}

// itemIfMatch reads If-Match as the item version a write is based on: 0
// (no condition) when absent or "*".
func itemIfMatch(c *gin.Context) (int64, error) {
	v := strings.TrimSpace(c.GetHeader("If-Match"))
	if v == "" || v == "*" {
		return 0, nil
	}
	tag := strings.TrimPrefix(v, "W/")
	if len(tag) >= 2 && tag[0] == '"' && tag[len(tag)-1] == '"' {
		if n, err := strconv.ParseInt(tag[1:len(tag)-1], 10, 64); err == nil && n >= 1 {
			return n, nil
		}
	}
	return 0, fmt.Errorf(`If-Match: want the item's ETag, such as "3"; got %q`, v)
}

// setItemETag names the item's version in ETag, for a later If-Match.
func setItemETag(c *gin.Context, it *model.Item) {
	c.Header("ETag", `"`+strconv.FormatInt(it.Version, 10)+`"`)
}

// staleMessage says what happened to an item since the curator saw it:
// "already rejected by demo 2 min ago".
func staleMessage(it *model.Item, now time.Time) string {
	by := func(name string) string {
		if name == "" {
			return ""
		}
		return " by " + name
	}
	switch {
	case it.EditedBy != "" && it.UpdatedAt.After(it.DecidedAt):
		return "edited" + by(it.EditedBy) + " " + ago(it.UpdatedAt, now)
	case !it.DecidedAt.IsZero():
		did := map[model.Status]string{
			model.StatusApproved: "already approved",
			model.StatusRejected: "already rejected",
			model.StatusQueued:   "moved back to the queue",
		}[it.Status]
		return did + by(it.DecidedBy) + " " + ago(it.DecidedAt, now)
	}
	return "changed since you opened it"
}

func ago(t, now time.Time) string {
	d := now.Sub(t)
	if d < time.Minute {
		return "just now"
	}
	return roughDuration(d) + " ago"
}

// staleActions is what each desk form does, for the question a refused
// one asks; status is the decision's outcome ("" for an edit).
var staleActions = map[string]struct {
	status           model.Status
	question, button string
}{
	"approve": {model.StatusApproved, "approve anyway?", "Approve anyway"},
	"reject":  {model.StatusRejected, "reject anyway?", "Reject anyway"},
	"requeue": {model.StatusQueued, "move it back to the queue anyway?", "Back to queue anyway"},
	"edit":    {"", "save your edit anyway?", "Save my edit anyway"},
}

// staleNotice is the queue page's answer to a refused form: what changed
// and, unless the item already stands as the curator wanted, a button that
// sends the same form again on the current version.
type staleNotice struct {
	Item   *model.Item // as stored now
	Text   string      // "Already rejected by demo 2 min ago — approve anyway?"
	Action string      // where the button posts; "" with nothing left to do
	Button string
	Fields []formField // the refused form's fields, to send again
}

type formField struct{ Name, Value string }

// newStaleNotice describes the refusal of the form posted to c (the path's
// last segment names the action) on the item as it is now.
func (s *Server) newStaleNotice(c *gin.Context, current *model.Item) *staleNotice {
	path := c.Request.URL.Path
	act := staleActions[path[strings.LastIndex(path, "/")+1:]]
	msg := staleMessage(current, s.cfg.Now())
	n := &staleNotice{Item: current, Text: strings.ToUpper(msg[:1]) + msg[1:]}
	if act.status != "" && act.status == current.Status {
		n.Text += "."
		return n
	}
	n.Text += " — " + act.question
	n.Action, n.Button = path, act.button
	names := make([]string, 0, len(c.Request.PostForm))
	for name := range c.Request.PostForm {
		if name != "csrf_token" && name != "version" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range c.Request.PostForm[name] {
			n.Fields = append(n.Fields, formField{name, v})
		}
	}
	n.Fields = append(n.Fields, formField{"version", strconv.FormatInt(current.Version, 10)})
	return n
}

// staleForm re-renders the queue the refused form came from, with the
// notice on top.
func (s *Server) staleForm(c *gin.Context, current *model.Item) {
	ret := safeReturn(c.PostForm("return"), "/queue")
	q := url.Values{}
	if u, err := url.Parse(ret); err == nil && u.Path == "/queue" {
		q = u.Query()
	} else {
		ret = "/queue"
	}
	s.renderQueue(c, http.StatusConflict, q, ret, s.newStaleNotice(c, current))
}

// staleJSON is staleForm for the queue's script: the API's stale answer
// plus the notice's text and button, and the tab counts.
func (s *Server) staleJSON(c *gin.Context, current *model.Item) {
	n := s.newStaleNotice(c, current)
	setItemETag(c, current)
	c.JSON(http.StatusPreconditionFailed, gin.H{
		"error":   gin.H{"code": "stale", "message": staleMessage(current, s.cfg.Now())},
		"current": current,
		"notice":  n.Text,
		"button":  n.Button,
		"counts":  s.countsOrNil(c),
	})
}

// countsOrNil is statusCounts for answers to a change that has happened:
// a failure to count is logged, not answered.
func (s *Server) countsOrNil(c *gin.Context) map[string]int {
	counts, err := s.statusCounts(c)
	if err != nil {
		s.log.Error("count items", "err", err)
		return nil
	}
	return counts
}
