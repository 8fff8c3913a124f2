package cli

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/clipsheet/clipsheet/internal/config"
)

// Healthcheck asks a running server on this machine for /healthz and exits
// 0 only on 200. It is the container's HEALTHCHECK: the image has no shell
// or curl, so the binary probes itself.
func Healthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("healthcheck", "healthcheck [--url http://127.0.0.1:8080/healthz] [--timeout 5s]", stderr)
	env := addEnvFlags(fs)
	target := fs.String("url", "", "address to probe (default: /healthz on the addr setting, on loopback when addr names no host)")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	url := *target
	if url == "" {
		e, err := env.load(stderr)
		if err != nil {
			return fail(stderr, err)
		}
		url = healthURL(e.Settings)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fail(stderr, fmt.Errorf("healthcheck: %w", err))
	}
	client := &http.Client{Transport: &http.Transport{
		// The probe runs beside the server and sends nothing secret; a
		// certificate made out to the public name never matches the
		// loopback address it dials.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}}
	res, err := client.Do(req)
	if err != nil {
		return fail(stderr, fmt.Errorf("healthcheck: %w", err))
	}
	defer res.Body.Close()
	first, _ := bufio.NewReader(io.LimitReader(res.Body, 512)).ReadString('\n')
	if res.StatusCode != http.StatusOK {
		return fail(stderr, fmt.Errorf("healthcheck: %s answered %s: %s", url, res.Status, strings.TrimSpace(first)))
	}
	fmt.Fprintf(stdout, "%s: %s\n", url, strings.TrimSpace(first))
	return 0
}

// healthURL is /healthz on the listen address, with an unspecified host
// (":8080", "0.0.0.0:8080", "[::]:8080") replaced by loopback.
func healthURL(s config.Settings) string {
	scheme := "http"
	if s.TLS.Cert != "" {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		host, port = s.Addr, "80"
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/healthz"
}
