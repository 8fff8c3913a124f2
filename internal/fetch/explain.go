package fetch

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Explain says in one plain sentence why a fetch failed, for people who
// look after sources but do not read Go error chains. The full error stays
// the detail shown on demand.
func Explain(err error) string {
	if err == nil {
		return ""
	}
	return ExplainText(err.Error())
}

// ExplainText is Explain for an error already turned into text, as a
// source's stored state keeps it. The text is what this package and httpx
// write, so the rules below match their wording; the tests feed them real
// errors so a change of wording there shows up here.
func ExplainText(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return ""
	}
	host := failedHost(msg)
	for _, r := range explainRules {
		if m := r.re.FindStringSubmatch(msg); m != nil {
			return r.say(m, host)
		}
	}
	return "The last poll failed; the details say why."
}

type explainRule struct {
	re  *regexp.Regexp
	say func(m []string, host string) string
}

// explainRules are tried in order. Network failures come first: a
// robots.txt that could not be fetched fails for the same reason as the
// page would, and that reason is what to tell.
var explainRules = []explainRule{
	{regexp.MustCompile(`cannot resolve host (\S+?):`), func(m []string, _ string) string {
		return fmt.Sprintf("The address %s could not be found: no such host name (a typo, or the site is gone).", m[1])
	}},
	{regexp.MustCompile(`refusing to fetch private address (\S+)`), func(m []string, host string) string {
		return fmt.Sprintf("%s leads to a private network address (%s), which the fetch policy refuses (fetch.allow_private).", orAddress(host), m[1])
	}},
	{regexp.MustCompile(`connection refused`), func(_ []string, host string) string {
		return fmt.Sprintf("The server at %s refused the connection: nothing answers there.", orThisAddress(host))
	}},
	{regexp.MustCompile(`connection reset by server|server closed the connection unexpectedly`), func(_ []string, host string) string {
		return fmt.Sprintf("The server at %s broke off the connection.", orThisAddress(host))
	}},
	{regexp.MustCompile(`TLS certificate not accepted: (.*)`), func(m []string, host string) string {
		return fmt.Sprintf("The security certificate of %s is not valid (%s).", orThisAddress(host), certReason(m[1]))
	}},
	{regexp.MustCompile(`TLS handshake failed`), func(_ []string, host string) string {
		return fmt.Sprintf("No secure (HTTPS) connection to %s could be made; the server may not speak HTTPS.", orThisAddress(host))
	}},
	{regexp.MustCompile(`timed out|deadline exceeded`), func(_ []string, _ string) string {
		return "The server took too long to answer."
	}},
	{regexp.MustCompile(`robots\.txt disallows (\S+)`), func(m []string, _ string) string {
		return fmt.Sprintf("The site's robots.txt forbids Clipsheet to fetch %s.", m[1])
	}},
	{regexp.MustCompile(`robots\.txt unavailable \(HTTP (\d{3})\)`), func(m []string, _ string) string {
		return fmt.Sprintf("The site's robots.txt could not be read (HTTP %s), so the site is off limits until it can.", m[1])
	}},
	{regexp.MustCompile(`host (\S+) asked to wait`), func(m []string, _ string) string {
		return fmt.Sprintf("%s asked Clipsheet to slow down; it is polled again after the wait it asked for.", m[1])
	}},
	{regexp.MustCompile(`HTTP (\d{3}) ?([^()]*?)(?: \(retry after [^)]*\))?$`), func(m []string, _ string) string {
		status := strings.TrimSpace(m[1] + " " + m[2])
		switch m[1] {
		case "429", "503":
			return fmt.Sprintf("The site answered %s: it asks Clipsheet to slow down or is down for now.", status)
		}
		return fmt.Sprintf("The site answered %s.", status)
	}},
	{regexp.MustCompile(`exceeds the limit of (\d+) bytes`), func(m []string, _ string) string {
		return fmt.Sprintf("The answer was larger than the limit of %s bytes (fetch.max_body_bytes).", m[1])
	}},
	{regexp.MustCompile(`not a feed: got an HTML page`), func([]string, string) string {
		return "The address is a web page, not a feed: use “Find feeds” on it, or make the source a page source."
	}},
	{regexp.MustCompile(`not a feed|parse feed`), func([]string, string) string {
		return "The address does not serve a readable feed (RSS, Atom or JSON Feed)."
	}},
	{regexp.MustCompile(`stopped after \d+ redirects`), func(_ []string, host string) string {
		return fmt.Sprintf("%s redirects in a loop.", orAddress(host))
	}},
	{regexp.MustCompile(`links selector .*: `), func([]string, string) string {
		return "The links selector is not valid CSS."
	}},
	{regexp.MustCompile(`internal error while polling`), func([]string, string) string {
		return "Clipsheet hit an internal error polling this source; it has been logged."
	}},
}

// failedHostRe finds the URL of the request that failed: the last
// "fetch URL:" in the chain (a redirect or robots.txt fetch names its own).
var failedHostRe = regexp.MustCompile(`(?:fetch|redirect to) (https?://[^\s:]+(?::\d+)?[^\s]*?):`)

func failedHost(msg string) string {
	all := failedHostRe.FindAllStringSubmatch(msg, -1)
	if len(all) == 0 {
		return ""
	}
	u, err := url.Parse(all[len(all)-1][1])
	if err != nil {
		return ""
	}
	return u.Hostname()
}

func orThisAddress(host string) string {
	if host == "" {
		return "this address"
	}
	return host
}

func orAddress(host string) string {
	if host == "" {
		return "The address"
	}
	return host
}

// certReason names the certificate problem in words.
func certReason(detail string) string {
	switch {
	case strings.Contains(detail, "unknown authority"):
		return "not signed by a trusted authority, e.g. self-signed"
	case strings.Contains(detail, "expired") || strings.Contains(detail, "not yet valid"):
		return "expired or not yet valid"
	case strings.Contains(detail, "not valid for") || strings.Contains(detail, "doesn't contain any IP SANs"):
		return "issued for another name"
	}
	return "not accepted"
}
