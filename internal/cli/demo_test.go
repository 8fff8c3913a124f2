package cli

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
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
