package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/seal"
	"github.com/gridd/gridd/internal/sqlite"
	"github.com/gridd/gridd/internal/sqlstore"
)

// httpCeiling measures what the client and net/http alone reach: an in-process server on a
// loopback port that answers every request with the same bytes as a real GET
// /customers/{id}, hammered with the same client, concurrency and duration. It shares the
// machine's CPUs with the client exactly as the real server does.
func httpCeiling(ctx context.Context, c *client, body []byte, conc int, d time.Duration) (OpResult, error) {
	if len(body) == 0 {
		body = append(CreateBody(0, "ceiling"), '\n')
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return OpResult{}, err
	}
	srv := ceilingServer(body)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	res := hammer(ctx, "http-ceiling", conc, d, func(ctx context.Context, w, n int) error {
		_, err := c.do(ctx, base, http.MethodGet, "/customers/Customer:ceiling", nil, false)
		return err
	})
	c.hc.CloseIdleConnections()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return res, err
}

// TempSQLite opens a fresh SQLite store in a new temporary directory, with the server's
// settings (WAL, synchronous=FULL); cleanup closes it and removes the directory.
func TempSQLite(ctx context.Context) (*sqlstore.Store, string, func(), error) {
	dir, err := os.MkdirTemp("", "gridd-bench-")
	if err != nil {
		return nil, "", nil, err
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "ceiling.db"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", nil, err
	}
	return st, "sqlite (fresh temporary file)", func() { st.Close(); os.RemoveAll(dir) }, nil
}

// storeCeiling measures the store alone: workers insert the same kind of customer row the
// create operation makes, each as its own durable transaction (its own commit and fsync)
// (InsertCustomer and InsertStatusChange, as the service does), with no HTTP, no decoding
// and no validation in front.
func storeCeiling(ctx context.Context, open func(context.Context) (*sqlstore.Store, string, func(), error), conc int, d time.Duration) (OpResult, string, error) {
	if open == nil {
		open = TempSQLite
	}
	st, name, cleanup, err := open(ctx)
	if err != nil {
		return OpResult{}, "", err
	}
	defer cleanup()
	// The ceiling is one durable commit per row: the way a store without group commit works.
	// POST /customers is measured against it with group commit on, as the server runs.
	st.Begin = nil
	box, err := seal.New(seal.NewKey())
	if err != nil {
		return OpResult{}, "", err
	}
	svc := grid.NewService(st, box, nil)
	p, err := svc.CreatePlatform(ctx, grid.PlatformSpec{Name: "bench-ceiling", UMADomain: "ceiling.bench.test", Sandbox: true})
	if err != nil {
		return OpResult{}, "", err
	}
	// One prepared customer per worker, varied like the create operation's bodies; each
	// insert copies it with fresh keys.
	tmpl := make([]*grid.Customer, conc)
	for w := range tmpl {
		if tmpl[w], err = svc.PrepareCustomer(p, Input(w, "tmpl")); err != nil {
			return OpResult{}, "", err
		}
	}
	run := randomHex(3)
	res := hammer(ctx, "store-ceiling", conc, d, func(ctx context.Context, w, n int) error {
		c := *tmpl[w]
		c.ID = grid.NewID("Customer")
		c.PlatformCustomerID = fmt.Sprintf("ceiling-%s-%d-%d", run, w, n)
		c.UMAAddress = "$" + c.PlatformCustomerID + "@" + p.UMADomain
		c.CreatedAt = svc.Now()
		c.UpdatedAt = c.CreatedAt
		return st.WithTx(ctx, func(tx grid.Tx) error {
			if err := tx.InsertCustomer(ctx, &c); err != nil {
				return err
			}
			return tx.InsertStatusChange(ctx, &grid.StatusChange{
				ID: grid.NewID("StatusChange"), CustomerID: c.ID, PlatformID: c.PlatformID,
				To: c.Status, Reason: "CREATED", Actor: "bench", At: c.CreatedAt,
			})
		})
	})
	return res, name, nil
}

// ceilingServer is the bare net/http server of the HTTP ceiling: every request gets body.
func ceilingServer(body []byte) *http.Server {
	length := strconv.Itoa(len(body))
	return &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Type", "application/json")
			h.Set("Content-Length", length)
			w.WriteHeader(http.StatusOK)
			w.Write(body)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
}

// ServeHTTPCeiling serves the HTTP ceiling on addr until ctx ends, for an outside load
// generator to measure side by side with gridd: it answers every request with the bytes of
// one real GET /customers/{id} from the server at baseURL. ready, when set, is called with
// the listening address and the answer's size.
func ServeHTTPCeiling(ctx context.Context, addr, baseURL, user, secret string, ready func(addr string, size int)) error {
	c := newClient(strings.TrimRight(baseURL, "/"), user, secret, 1)
	defer c.close()
	page, err := c.listPage(ctx, "limit=1")
	if err != nil {
		return fmt.Errorf("find a customer: %w", err)
	}
	if len(page.Data) == 0 {
		return errors.New("the platform has no customer to copy the answer of")
	}
	body, err := c.do(ctx, c.base, http.MethodGet, "/customers/"+page.Data[0].ID, nil, true)
	if err != nil {
		return fmt.Errorf("GET /customers/%s: %w", page.Data[0].ID, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := ceilingServer(body)
	if ready != nil {
		ready(ln.Addr().String(), len(body))
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}
