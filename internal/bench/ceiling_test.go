package bench_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/gridd/gridd/internal/bench"
	"github.com/gridd/gridd/internal/grid"
)

// TestServeHTTPCeiling serves the bare handler for an outside load generator: it answers any
// path with the exact bytes gridd gives for a customer, and stops with its context.
func TestServeHTTPCeiling(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	srv := f.serve(t, 3)

	get := func(url string, auth bool) []byte {
		req, _ := http.NewRequest("GET", url, nil)
		if auth {
			req.SetBasicAuth(srv.user, srv.secret)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("GET %s: %d %s", url, res.StatusCode, res.Header.Get("Content-Type"))
		}
		return b
	}
	page, err := f.svc.ListCustomers(ctx, &grid.Principal{Token: f.tok, Platform: f.p}, grid.CustomerFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	real := get(srv.url+"/customers/"+page.Customers[0].ID, true)

	cctx, cancel := context.WithCancel(ctx)
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- bench.ServeHTTPCeiling(cctx, "127.0.0.1:0", srv.url, srv.user, srv.secret, func(addr string, size int) {
			if size != len(real) {
				t.Errorf("ceiling answers %d bytes, a real GET %d", size, len(real))
			}
			addrc <- addr
		})
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("ServeHTTPCeiling: %v", err)
	}
	if got := get("http://"+addr+"/anything", false); string(got) != string(real) {
		t.Errorf("ceiling answered\n%s\nwant\n%s", got, real)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ServeHTTPCeiling after cancel: %v", err)
	}
}
