package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSettingsLayering(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "clipsheet.yaml")
	err := os.WriteFile(path, []byte("addr: :9000\nfetch:\n  timeout: 5s\n  allow_private: false\n  max_body_bytes: 1MB\nexcerpt:\n  max_chars: 900\n"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadSettings(path, true, []string{"CLIPSHEET_FETCH_ALLOW_PRIVATE=true", "CLIPSHEET_EXCERPT_MAX_CHARS=1200", "HOME=/root"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr != ":9000" || s.Fetch.Timeout != 5*time.Second || s.Fetch.MaxBodyBytes != 1<<20 {
		t.Errorf("file values not applied: %+v", s)
	}
	if !s.Fetch.AllowPrivate || s.Excerpt.MaxChars != 1200 {
		t.Errorf("environment did not override the file: %+v", s)
	}
	if s.DataDir != "./data" || s.Fetch.PerHost != 2 {
		t.Errorf("defaults lost: %+v", s)
	}
	if err := s.Set("fetch.allow_private", "false"); err != nil || s.Fetch.AllowPrivate {
		t.Errorf("Set did not override: %v", err)
	}
}

func TestSettingsErrors(t *testing.T) {
	if _, err := LoadSettings(filepath.Join(t.TempDir(), "missing.yaml"), false, nil); err != nil {
		t.Errorf("missing optional file: %v", err)
	}
	if _, err := LoadSettings(filepath.Join(t.TempDir(), "missing.yaml"), true, nil); err == nil {
		t.Error("missing required file accepted")
	}
	_, err := LoadSettings("", false, []string{"CLIPSHEET_FETCH_ALOW_PRIVATE=1"})
	if err == nil || !strings.Contains(err.Error(), "unknown setting CLIPSHEET_FETCH_ALOW_PRIVATE") {
		t.Errorf("typo in env var: %v", err)
	}
	_, err = LoadSettings("", false, []string{"CLIPSHEET_FETCH_TIMEOUT=soon"})
	if err == nil || !strings.Contains(err.Error(), "fetch.timeout") {
		t.Errorf("bad duration: %v", err)
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("fetch:\n  alow_private: true\n"), 0o600)
	if _, err := LoadSettings(path, true, nil); err == nil || !strings.Contains(err.Error(), "line 2: unknown setting fetch.alow_private") {
		t.Errorf("unknown key in file: %v", err)
	}
	os.WriteFile(path, []byte("addr: :9000\nfetchh:\n  timeout: 5s\nexcerpt: {max_chars: 900, min_chars: 1}\n"), 0o600)
	if _, err := LoadSettings(path, true, nil); err == nil || !strings.Contains(err.Error(), "line 2: unknown setting fetchh") || !strings.Contains(err.Error(), "line 4: unknown setting excerpt.min_chars") {
		t.Errorf("unknown keys in file: %v", err)
	}
	os.WriteFile(path, []byte("fetch.allow_private: true\n"), 0o600)
	if _, err := LoadSettings(path, true, nil); err == nil || !strings.Contains(err.Error(), "line 1: write fetch.allow_private nested") {
		t.Errorf("dotted key in file: %v", err)
	}
	for env, want := range map[string]string{
		"CLIPSHEET_LOG_LEVEL=loud":            `log.level "loud"`,
		"CLIPSHEET_LOG_FORMAT=xml":            `log.format "xml"`,
		"CLIPSHEET_ADDR=":                     "addr must not be empty",
		"CLIPSHEET_EXCERPT_MAX_CHARS=5":       "excerpt.max_chars must be at least 50",
		"CLIPSHEET_RETENTION_PRUNE_AFTER=-1h": "retention.drop_bodies_after and retention.prune_after must not be negative",
		"CLIPSHEET_BACKUP_EVERY=30s":          "backup.every must be 0 (off) or at least 1m",
		"CLIPSHEET_BACKUP_KEEP=0":             "backup.keep must be at least 1",
	} {
		if _, err := LoadSettings("", false, []string{env}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", env, err, want)
		}
	}
	if _, err := LoadSettings("", false, []string{"CLIPSHEET_LOG_LEVEL=debug", "CLIPSHEET_LOG_FORMAT=json"}); err != nil {
		t.Errorf("valid log settings: %v", err)
	}
}

func TestEnvNames(t *testing.T) {
	names := strings.Join(EnvNames(), " ")
	for _, want := range []string{"CLIPSHEET_FETCH_ALLOW_PRIVATE", "CLIPSHEET_BRIEFING_PUBLIC", "CLIPSHEET_EXCERPT_MAX_CHARS", "CLIPSHEET_DATA_DIR"} {
		if !strings.Contains(names, want) {
			t.Errorf("missing %s in %s", want, names)
		}
	}
}

// Every setting can be given in clipsheet.yaml, in the same forms the
// environment takes (2d, 5MB, lists), and each lands in its field.
func TestSettingsFileTakesEveryKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clipsheet.yaml")
	os.WriteFile(path, []byte(`addr: 0.0.0.0:9090
data_dir: /var/lib/clipsheet
sources: /etc/clipsheet/sources.yaml
base_url: https://desk.example
timezone: Europe/Berlin
editions: {schedule: ["06:00", "17:30"], weekdays_only: true}
trusted_proxies: [10.0.0.1, 10.0.0.2]
tls: {cert: /etc/c.pem, key: /etc/k.pem}
fetch:
  allow_private: true
  timeout: 1m30s
  connect_timeout: 2d
  max_body_bytes: 5MB
  workers: 4
  per_host: 1
  user_agent: Desk/1
  max_articles: 7
  ignore_robots: true
excerpt: {max_chars: 1500}
briefing: {public: false, title: Morning clips, canonical: original}
log: {level: debug, format: json}
retention: {drop_bodies_after: 14d, prune_after: 0}
metrics: {addr: 127.0.0.1:9090}
backup: {dir: /srv/backups, every: 6h, keep: 28}
`), 0o600)
	s, err := LoadSettings(path, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{Addr: "0.0.0.0:9090", DataDir: "/var/lib/clipsheet", Sources: "/etc/clipsheet/sources.yaml", BaseURL: "https://desk.example",
		Timezone: "Europe/Berlin", Editions: Editions{Schedule: []string{"06:00", "17:30"}, WeekdaysOnly: true},
		TrustedProxies: []string{"10.0.0.1", "10.0.0.2"}, TLS: TLS{Cert: "/etc/c.pem", Key: "/etc/k.pem"},
		Fetch: Fetch{AllowPrivate: true, Timeout: 90 * time.Second, ConnectTimeout: 48 * time.Hour, MaxBodyBytes: 5 << 20, Workers: 4, PerHost: 1,
			UserAgent: "Desk/1", MaxArticles: 7, IgnoreRobots: true},
		Excerpt: Excerpt{MaxChars: 1500}, Briefing: Briefing{Public: false, Title: "Morning clips", Canonical: "original"}, Log: Log{Level: "debug", Format: "json"},
		Retention: Keep{DropBodiesAfter: 14 * 24 * time.Hour}, Metrics: Metrics{Addr: "127.0.0.1:9090"},
		Backup: Backup{Dir: "/srv/backups", Every: 6 * time.Hour, Keep: 28}}
	if fmt.Sprintf("%+v", s) != fmt.Sprintf("%+v", want) {
		t.Errorf("got  %+v\nwant %+v", s, want)
	}
	for body, msg := range map[string]string{
		"fetch:\n  timeout: 30\n":              `line 2: fetch.timeout: invalid duration "30"`,
		"fetch:\n  workers: many\n":            `line 2: fetch.workers: "many" is not a number`,
		"fetch: true\n":                        "line 1: fetch holds keys",
		"addr: [a, b]\n":                       "line 1: addr takes a single value",
		"- addr\n":                             "line 1: settings must be a mapping",
		"briefing:\n  public: perhaps\n":       `line 2: briefing.public: "perhaps" is not true or false`,
		"timezone: Mars/Olympus\n":             `timezone "Mars/Olympus"`,
		"editions:\n  schedule: [\"6am\"]\n":   `editions.schedule: "6am" is not a time of day`,
		"editions:\n  schedule: [\"24:00\"]\n": `editions.schedule: "24:00" is not a time of day`,
		"briefing:\n  canonical: theirs\n":     `briefing.canonical "theirs"`,
		"base_url: desk.example\n":             `base_url "desk.example"`,
	} {
		os.WriteFile(path, []byte(body), 0o600)
		if _, err := LoadSettings(path, true, nil); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: %v, want %q", body, err, msg)
		}
	}
	os.WriteFile(path, []byte("# all defaults\naddr:\n"), 0o600)
	if s, err := LoadSettings(path, true, nil); err != nil || s.Addr != DefaultSettings().Addr {
		t.Errorf("empty value should keep the default: %v %q", err, s.Addr)
	}
}
