package bench_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gridd/gridd/internal/bench"
)

// TestSoak runs the mixed load briefly against a real server in this process, sampling this
// process as the server, and checks that every operation ran and changed the data.
func TestSoak(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	srv := f.serve(t, 200)
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	prof := httptest.NewServer(mux)
	defer prof.Close()

	var log bytes.Buffer
	rep, err := bench.Soak(ctx, bench.SoakOptions{BaseURL: srv.url, User: srv.user, Secret: srv.secret,
		Duration: 1500 * time.Millisecond, Concurrency: 4, Every: 250 * time.Millisecond,
		PID: os.Getpid(), PprofURL: prof.URL, Log: &log})
	if err != nil {
		t.Fatalf("Soak: %v\n%s", err, log.String())
	}
	if rep.FirstError != "" {
		t.Errorf("errors during the soak; first: %s", rep.FirstError)
	}
	for op, n := range rep.PerOp {
		if n == 0 {
			t.Errorf("operation %s never ran: %v", op, rep.PerOp)
		}
	}
	if len(rep.Samples) < 6 {
		t.Fatalf("%d samples, want at least 6", len(rep.Samples))
	}
	last := rep.Samples[len(rep.Samples)-1]
	if last.Requests == 0 || last.RSSKiB <= 0 || last.Goroutines <= 0 || last.OpenFiles <= 0 {
		t.Errorf("last sample %+v: want requests, RSS, goroutines and open files", last)
	}
	if n := count(t, f.st, `SELECT COUNT(*) FROM customers WHERE deleted_at IS NOT NULL`); n == 0 {
		t.Error("no customer was deleted")
	}
	if n := count(t, f.st, `SELECT COUNT(*) FROM customers WHERE profile LIKE '%soak-%@example.com%'`); n == 0 {
		t.Error("no customer's email was changed")
	}
	var out bytes.Buffer
	if err := rep.Write(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"RSS KiB: median", "goroutines: median", "open files: median"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	t.Logf("report:\n%s", out.String())
}
