package cli

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clipsheet/clipsheet/internal/store"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var (
	demoLoginRe = regexp.MustCompile(`sign in as demo / (\S+)`)
	csrfRe      = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	approveRe   = regexp.MustCompile(`action="/items/([0-9a-f]+)/approve"`)
)

// What `make demo` runs: the shipped sample site on loopback and the
// service against it, no internet. A newcomer signs in with the printed
// password, finds the queue filled, approves a story and sees it on the
// briefing, linking to the story on the sample site.
func TestDemoFillsTheQueueWithoutInternet(t *testing.T) {
	data := filepath.Join(t.TempDir(), "demo")
	addr, siteAddr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- Demo(ctx, []string{"--site", "../../testdata/demo/site", "--data", data, "--addr", addr, "--site-addr", siteAddr}, &out, &errOut)
	}()

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	get := func(path string) string {
		t.Helper()
		res, err := client.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, errOut.String())
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	post := func(path string, form url.Values) {
		t.Helper()
		res, err := client.PostForm("http://"+addr+path, form)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK { // after the redirect
			t.Fatalf("POST %s: %s", path, res.Status)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(errOut.String(), `source="Metro Transit Police"`) || !strings.Contains(errOut.String(), `source="Riverside County Emergency News"`) {
		if time.Now().After(deadline) {
			t.Fatalf("demo sources not polled in 30s\nstdout: %s\nstderr: %s", out.String(), errOut.String())
		}
		select {
		case code := <-done:
			t.Fatalf("demo exited with %d\n%s\n%s", code, out.String(), errOut.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	m := demoLoginRe.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no demo password printed:\n%s", out.String())
	}
	login := get("/login")
	tok := csrfRe.FindStringSubmatch(login)
	if tok == nil {
		t.Fatal("no CSRF token on /login")
	}
	post("/login", url.Values{"csrf_token": {tok[1]}, "name": {"demo"}, "password": {m[1]}})

	queue := get("/queue")
	ids := approveRe.FindAllStringSubmatch(queue, -1)
	if len(ids) != 5 {
		t.Fatalf("queue shows %d items, want the 5 sample stories:\n%s", len(ids), queue)
	}
	post("/items/"+ids[0][1]+"/approve", url.Values{"csrf_token": {csrfRe.FindStringSubmatch(queue)[1]}})
	briefing := get("/")
	if n := strings.Count(briefing, `<article class="clip"`); n != 1 {
		t.Errorf("briefing shows %d stories, want the approved one", n)
	}
	if !strings.Contains(briefing, `href="http://`+siteAddr+`/news/`) || !strings.Contains(briefing, ">Full story") {
		t.Errorf("briefing does not link to the story on the sample site:\n%s", briefing)
	}

	// serve hands the running fetcher to the sources page: "Poll now"
	// polls a source at once (nothing new: it was just polled).
	res, err := client.PostForm("http://"+addr+"/admin/sources/poll", url.Values{"csrf_token": {csrfRe.FindStringSubmatch(queue)[1]}, "name": {"Metro Transit Police"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(page), "Polled &#34;Metro Transit Police&#34; just now: nothing new.") {
		t.Errorf("Poll now: %s\n%s", res.Status, page)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("demo exit %d: %s", code, errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("demo did not stop")
	}
}

// runningDemo is a demo started in-process by startDemo.
type runningDemo struct {
	out, errOut *lockedBuffer
	done        chan int
	cancel      context.CancelFunc
}

// startDemo runs Demo with args until it serves (or exits early, whose
// code it returns with ok false). stop ends it and returns its exit code.
func startDemo(t *testing.T, args ...string) (d *runningDemo, code int, ok bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d = &runningDemo{out: &lockedBuffer{}, errOut: &lockedBuffer{}, done: make(chan int, 1), cancel: cancel}
	go func() { d.done <- Demo(ctx, args, d.out, d.errOut) }()
	t.Cleanup(func() { d.stop(t) })
	for !strings.Contains(d.out.String(), "clipsheet: serving on") {
		select {
		case code := <-d.done:
			d.done <- code
			return d, code, false
		case <-time.After(20 * time.Millisecond):
		}
	}
	return d, 0, true
}

func (d *runningDemo) stop(t *testing.T) int {
	t.Helper()
	d.cancel()
	select {
	case code := <-d.done:
		d.done <- code // stop may run again in the cleanup
		return code
	case <-time.After(15 * time.Second):
		t.Fatal("demo did not stop")
		return -1
	}
}

// password is the demo password the run printed, or "".
func (d *runningDemo) password() string {
	if m := demoLoginRe.FindStringSubmatch(d.out.String()); m != nil {
		return m[1]
	}
	return ""
}

// signsIn reports whether demo/password opens the queue at addr.
func signsIn(t *testing.T, addr, password string) bool {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	res, err := client.Get("http://" + addr + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	tok := csrfRe.FindSubmatch(page)
	if tok == nil {
		t.Fatalf("no CSRF token on /login:\n%s", page)
	}
	res, err = client.PostForm("http://"+addr+"/login", url.Values{"csrf_token": {string(tok[1])}, "name": {"demo"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	res, err = client.Get("http://" + addr + "/queue")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK && res.Request.URL.Path == "/queue"
}

// A demo whose port is taken fails before it makes an account or shows a
// password; once the port is free it prints one that works, and each later
// run prints a new one that works (the old one no longer does).
func TestDemoOnBusyPortKeepsNoLostPassword(t *testing.T) {
	data := filepath.Join(t.TempDir(), "demo")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := busy.Addr().String()
	args := []string{"--site", "../../testdata/demo/site", "--data", data, "--addr", addr, "--site-addr", freeAddr(t)}

	d, code, ok := startDemo(t, args...)
	busy.Close()
	if ok || code == 0 {
		t.Fatalf("demo served on a busy port (exit %d)\n%s", code, d.out.String())
	}
	if !strings.Contains(d.errOut.String(), "listen on "+addr) || !strings.Contains(d.errOut.String(), "address already in use") {
		t.Errorf("stderr does not name the busy address:\n%s", d.errOut.String())
	}
	if d.password() != "" || strings.Contains(d.out.String(), "sign in") {
		t.Errorf("a password was shown for a demo that did not start:\n%s", d.out.String())
	}
	st, err := store.Open(filepath.Join(data, "clipsheet.db"))
	if err != nil {
		t.Fatal(err)
	}
	users, err := st.ListUsers(context.Background())
	st.Close()
	if err != nil || len(users) != 0 {
		t.Fatalf("the failed start left %d account(s) (%v)", len(users), err)
	}

	var previous string
	for run := 1; run <= 2; run++ {
		d, code, ok := startDemo(t, args...)
		if !ok {
			t.Fatalf("run %d: exit %d\n%s", run, code, d.errOut.String())
		}
		pw := d.password()
		if pw == "" {
			t.Fatalf("run %d printed no password:\n%s", run, d.out.String())
		}
		if !signsIn(t, addr, pw) {
			t.Errorf("run %d: the printed password does not sign in", run)
		}
		if previous != "" && (pw == previous || signsIn(t, addr, previous)) {
			t.Errorf("run %d: the previous run's password still works", run)
		}
		previous = pw
		if code := d.stop(t); code != 0 {
			t.Fatalf("run %d: exit %d: %s", run, code, d.errOut.String())
		}
	}
}

// The demo takes the listen address and the other settings from the
// environment like serve does; only its database and sources are its own.
func TestDemoFollowsSettingsFromTheEnvironment(t *testing.T) {
	addr := freeAddr(t)
	t.Setenv("CLIPSHEET_ADDR", addr)
	t.Setenv("CLIPSHEET_LOG_FORMAT", "json")
	t.Setenv("CLIPSHEET_DATA_DIR", filepath.Join(t.TempDir(), "not-the-demo"))
	data := filepath.Join(t.TempDir(), "demo")
	d, code, ok := startDemo(t, "--site", "../../testdata/demo/site", "--data", data, "--site-addr", freeAddr(t))
	if !ok {
		t.Fatalf("exit %d\n%s", code, d.errOut.String())
	}
	if !strings.Contains(d.out.String(), "open http://"+addr+"/queue") {
		t.Errorf("the demo does not point at CLIPSHEET_ADDR %s:\n%s", addr, d.out.String())
	}
	if !signsIn(t, addr, d.password()) {
		t.Errorf("no demo sign-in on CLIPSHEET_ADDR %s", addr)
	}
	// The first polls of the sample site are logged within seconds.
	for deadline := time.Now().Add(30 * time.Second); d.errOut.String() == "" && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if first, _, _ := strings.Cut(d.errOut.String(), "\n"); !strings.HasPrefix(first, `{"time":`) {
		t.Errorf("CLIPSHEET_LOG_FORMAT=json not followed; stderr starts %q", first)
	}
	if _, err := os.Stat(filepath.Join(data, "clipsheet.db")); err != nil {
		t.Errorf("the demo database is not under --data: %v", err)
	}
}
