package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// ErrNoServer means no server answers on the socket (no socket file, or a
// stale one): the caller may open the database itself.
var ErrNoServer = errors.New("no clipsheet server answers on the control socket")

// Client reads through a running server's control socket. It implements
// Reader.
type Client struct {
	hc *http.Client
}

// Dial connects to the server answering on the socket at path and checks
// that it speaks this API version. It returns ErrNoServer when none
// answers.
func Dial(ctx context.Context, path string) (*Client, error) {
	c := &Client{hc: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
		// A server that accepts but never answers must not hang the
		// command for good.
		ResponseHeaderTimeout: 30 * time.Second,
	}}}
	var v versionAnswer
	if err := c.get(ctx, "/v1", nil, &v); err != nil {
		c.Close()
		return nil, err
	}
	if v.API != APIVersion {
		c.Close()
		return nil, fmt.Errorf("the server on %s speaks control API v%d, this command v%d: use the same clipsheet version", path, v.API, APIVersion)
	}
	return c, nil
}

// Close releases the client's idle connection.
func (c *Client) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

// ListItems lists items as the store does.
func (c *Client) ListItems(ctx context.Context, f store.ItemFilter) ([]*model.Item, error) {
	var a itemsAnswer
	err := c.get(ctx, "/v1/items", itemQuery(f), &a)
	return a.Items, err
}

// ListAudit lists audit events as the store does.
func (c *Client) ListAudit(ctx context.Context, f store.AuditFilter) ([]model.AuditEvent, error) {
	var a auditAnswer
	err := c.get(ctx, "/v1/audit", auditQuery(f), &a)
	return a.Events, err
}

// ListSourceStates lists the stored source states as the store does.
func (c *Client) ListSourceStates(ctx context.Context) ([]*model.SourceState, error) {
	var a statesAnswer
	err := c.get(ctx, "/v1/sources/states", nil, &a)
	return a.States, err
}

// Backup copies the running server's database, as of one moment, to w.
func (c *Client) Backup(ctx context.Context, w io.Writer) (int64, error) {
	res, err := c.do(ctx, "/v1/backup", nil)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	n, err := io.Copy(w, res.Body)
	if err == nil && res.ContentLength >= 0 && n != res.ContentLength {
		err = fmt.Errorf("got %d of %d bytes", n, res.ContentLength)
	}
	if err != nil {
		return n, fmt.Errorf("control socket: backup: %w", err)
	}
	return n, nil
}

// Check runs the consistency check in the running server.
func (c *Client) Check(ctx context.Context) (*store.Report, error) {
	var a checkAnswer
	err := c.get(ctx, "/v1/check", nil, &a)
	return a.Report, err
}

func (c *Client) get(ctx context.Context, path string, q url.Values, into any) error {
	res, err := c.do(ctx, path, q)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(into); err != nil {
		return fmt.Errorf("control socket: GET %s: %w", path, err)
	}
	return nil
}

// do sends a GET and returns a 200 answer; any other is turned into the
// server's error.
func (c *Client) do(ctx context.Context, path string, q url.Values) (*http.Response, error) {
	u := "http://clipsheet" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return nil, fmt.Errorf("%w (%v)", ErrNoServer, op.Err)
		}
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		defer res.Body.Close()
		var e errorAnswer
		if json.NewDecoder(res.Body).Decode(&e) != nil || e.Error == "" {
			e.Error = res.Status
		}
		return nil, fmt.Errorf("control socket: GET %s: %s", path, e.Error)
	}
	return res, nil
}
