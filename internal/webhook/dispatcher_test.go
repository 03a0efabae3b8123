package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/pgtest"
	"github.com/gridd/gridd/internal/postgres"
	"github.com/gridd/gridd/internal/sqlite"
	"github.com/gridd/gridd/internal/sqlstore"
	"github.com/gridd/gridd/internal/webhook"
)

// ---- stores ----

func openSQLite(t testing.TB) *sqlstore.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "gridd.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func postgresURL(t testing.TB) string { return pgtest.URL(t) }

// postgresSchema returns a fresh schema, dropped after the test.
func postgresSchema(t testing.TB, url string) string { return pgtest.Schema(t, "wh_") }

func openPostgres(t testing.TB, url, schema string) *sqlstore.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), url, postgres.Options{Schema: schema, MaxConns: 8})
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// backends runs a test on SQLite and on PostgreSQL.
func backends(t *testing.T, fn func(t *testing.T, open func() *sqlstore.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		st := openSQLite(t)
		fn(t, func() *sqlstore.Store { return st })
	})
	t.Run("postgres", func(t *testing.T) {
		url := postgresURL(t)
		schema := postgresSchema(t, url)
		fn(t, func() *sqlstore.Store { return openPostgres(t, url, schema) })
	})
}

// ---- fixtures ----

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func addPlatform(t testing.TB, st grid.Store, endpoint string) *grid.Platform {
	t.Helper()
	at := now()
	p := &grid.Platform{ID: grid.NewID("PlatformConfig"), Name: "p", UMADomain: "pay.example.com", Webhook: endpoint,
		Currencies: []grid.CurrencyConfig{{Code: "USD", MinAmount: 1, MaxAmount: 2}}, CreatedAt: at, UpdatedAt: at}
	mustTx(t, st, func(tx grid.Tx) error { return tx.InsertPlatform(t.Context(), p) })
	return p
}

func mustTx(t testing.TB, st grid.Store, fn func(grid.Tx) error) {
	t.Helper()
	for attempt := range 10 {
		err := st.WithTx(context.Background(), fn)
		if errors.Is(err, grid.ErrRetry) {
			time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatalf("WithTx: %v", err)
		}
		return
	}
	t.Fatal("WithTx: still asked to retry")
}

// addEvents writes n events per key, in key-major order, and returns them.
func addEvents(t testing.TB, st grid.Store, platformID string, keys []string, n int) []*grid.Event {
	t.Helper()
	var out []*grid.Event
	for i := range n {
		for _, k := range keys {
			id := grid.NewID("Webhook")
			body, _ := json.Marshal(map[string]any{"id": id, "type": "CUSTOMER.KYC_APPROVED", "timestamp": "2025-08-15T14:32:00Z",
				"data": map[string]any{"key": k, "seq": i}})
			out = append(out, &grid.Event{ID: id, PlatformID: platformID, Type: "CUSTOMER.KYC_APPROVED", OrderKey: k, Body: body, CreatedAt: now()})
		}
	}
	mustTx(t, st, func(tx grid.Tx) error {
		for _, e := range out {
			if err := tx.InsertEvent(t.Context(), e); err != nil {
				return err
			}
		}
		return nil
	})
	return out
}

func newClient(t testing.TB, timeout time.Duration) *webhook.Client {
	t.Helper()
	der, err := webhook.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	key, err := webhook.ParsePKCS8(der)
	if err != nil {
		t.Fatal(err)
	}
	s, err := webhook.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	return webhook.NewClient(s, timeout)
}

// fastOptions retry within milliseconds.
func fastOptions(node string) webhook.Options {
	return webhook.Options{Node: node, PollInterval: 10 * time.Millisecond, BaseDelay: 10 * time.Millisecond, MaxDelay: 40 * time.Millisecond,
		Lease: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)}
}

// start runs a dispatcher until the test ends (or stop is called) and checks it stops.
func start(t testing.TB, st webhook.Store, sender grid.WebhookSender, opts webhook.Options) (stop func()) {
	t.Helper()
	d := webhook.New(st, sender, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run = %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Errorf("dispatcher did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// ---- receiver ----

type delivery struct {
	ID  string
	Key string
	Seq int
}

// receiver is a webhook endpoint on loopback that verifies every signature and records
// what it accepted. answer decides the status of each request (nil: 200).
type receiver struct {
	t      testing.TB
	srv    *httptest.Server
	pubPEM string

	mu       sync.Mutex
	answer   func(d delivery, n int) int
	accepted []delivery
	requests int
	badSig   int
}

func newReceiver(t testing.TB, pubPEM string, answer func(d delivery, n int) int) *receiver {
	r := &receiver{t: t, pubPEM: pubPEM, answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if ct := req.Header.Get("Content-Type"); ct != "application/json" || req.Method != http.MethodPost {
		r.t.Errorf("webhook request %s with Content-Type %q", req.Method, ct)
	}
	if err := webhook.Verify(r.pubPEM, body, req.Header.Get(webhook.SignatureHeader)); err != nil {
		r.badSig++
		r.t.Errorf("signature of %s: %v", body, err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var msg struct {
		ID   string `json:"id"`
		Data struct {
			Key string `json:"key"`
			Seq int    `json:"seq"`
		} `json:"data"`
	}
	json.Unmarshal(body, &msg)
	d := delivery{ID: msg.ID, Key: msg.Data.Key, Seq: msg.Data.Seq}
	status := http.StatusOK
	if r.answer != nil {
		status = r.answer(d, r.requests)
	}
	if status >= 200 && status < 300 {
		r.accepted = append(r.accepted, d)
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"status":%d}`, status)
}

func (r *receiver) got() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.accepted)
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func eventState(t testing.TB, st grid.Store, platformID, id string) *grid.EventDelivery {
	t.Helper()
	e, err := st.GetEvent(context.Background(), platformID, id)
	if err != nil {
		t.Fatalf("GetEvent %s: %v", id, err)
	}
	return e
}

// checkOrder fails unless every key's deliveries come in sequence order, each exactly once,
// and all n per key arrived.
func checkOrder(t testing.TB, got []delivery, keys []string, n int) {
	t.Helper()
	per := map[string][]int{}
	for _, d := range got {
		per[d.Key] = append(per[d.Key], d.Seq)
	}
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	for _, k := range keys {
		if !slices.Equal(per[k], want) {
			t.Errorf("key %s: deliveries in order %v, want %v", k, per[k], want)
		}
	}
}

// ---- tests ----

// TestReceiverDownThenUp has the endpoint answer 503 for a while: every event still arrives,
// signed, once accepted, in order per key, after attempts that are all on record.
func TestReceiverDownThenUp(t *testing.T) {
	backends(t, func(t *testing.T, open func() *sqlstore.Store) {
		st := open()
		client := newClient(t, 2*time.Second)
		var down sync.Mutex
		isDown := true
		rcv := newReceiver(t, client.PublicKeyPEM(), func(d delivery, n int) int {
			down.Lock()
			defer down.Unlock()
			if isDown {
				return http.StatusServiceUnavailable
			}
			return http.StatusNoContent
		})
		p := addPlatform(t, st, rcv.srv.URL+"/hooks")
		keys := []string{"Customer:a", "Customer:b", "Customer:c", "Customer:d"}
		evs := addEvents(t, st, p.ID, keys, 5)
		start(t, st, client, fastOptions("n1"))

		waitFor(t, 10*time.Second, "failed attempts", func() bool {
			rcv.mu.Lock()
			defer rcv.mu.Unlock()
			return rcv.requests >= 12
		})
		if got := rcv.got(); len(got) != 0 {
			t.Fatalf("accepted %d webhooks while the endpoint was down", len(got))
		}
		down.Lock()
		isDown = false
		down.Unlock()
		waitFor(t, 10*time.Second, "every event", func() bool { return len(rcv.got()) >= len(evs) })
		time.Sleep(50 * time.Millisecond)
		checkOrder(t, rcv.got(), keys, 5)

		first := eventState(t, st, p.ID, evs[0].ID)
		if first.State != grid.DeliveryDelivered || first.Attempts < 2 || first.DeliveredAt.IsZero() {
			t.Errorf("first event: state %s, attempts %d, deliveredAt %v; want DELIVERED after retries", first.State, first.Attempts, first.DeliveredAt)
		}
		as, err := st.ListDeliveryAttempts(context.Background(), p.ID, evs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(as) != first.Attempts {
			t.Fatalf("%d attempts recorded, event counts %d", len(as), first.Attempts)
		}
		for i, a := range as[:len(as)-1] {
			if a.StatusCode != 503 || a.Error == "" || a.Node != "n1" {
				t.Errorf("attempt %d = %+v, want a 503 with an error by n1", i, a)
			}
		}
		if last := as[len(as)-1]; last.StatusCode != 204 || last.Error != "" {
			t.Errorf("last attempt = %+v, want 204 without error", last)
		}
	})
}

// TestTwoDispatchers runs two nodes on one database: each event is delivered exactly once,
// in order per key.
func TestTwoDispatchers(t *testing.T) {
	backends(t, func(t *testing.T, open func() *sqlstore.Store) {
		st1, st2 := open(), open()
		client := newClient(t, 2*time.Second)
		rcv := newReceiver(t, client.PublicKeyPEM(), nil)
		p := addPlatform(t, st1, rcv.srv.URL)
		q := addPlatform(t, st1, rcv.srv.URL+"/q")
		var keys []string
		for i := range 12 {
			keys = append(keys, fmt.Sprintf("Customer:%02d", i))
		}
		evs := addEvents(t, st1, p.ID, keys[:6], 8)
		evs = append(evs, addEvents(t, st1, q.ID, keys[6:], 8)...)
		o1, o2 := fastOptions("n1"), fastOptions("n2")
		o1.PollInterval, o2.PollInterval = time.Millisecond, time.Millisecond
		start(t, st1, client, o1)
		start(t, st2, client, o2)
		waitFor(t, 20*time.Second, "every event", func() bool { return len(rcv.got()) >= len(evs) })
		time.Sleep(100 * time.Millisecond)
		got := rcv.got()
		if len(got) != len(evs) {
			t.Errorf("receiver accepted %d webhooks, want exactly %d", len(got), len(evs))
		}
		checkOrder(t, got, keys, 8)
		waitFor(t, 10*time.Second, "every outcome to be recorded", func() bool {
			for _, e := range evs {
				if eventState(t, st1, e.PlatformID, e.ID).State != grid.DeliveryDelivered {
					return false
				}
			}
			return true
		})
		nodes := map[string]int{}
		for _, e := range evs {
			as, err := st1.ListDeliveryAttempts(context.Background(), e.PlatformID, e.ID)
			if err != nil || len(as) != 1 {
				t.Fatalf("attempts of %s = %d, %v; want 1", e.ID, len(as), err)
			}
			nodes[as[0].Node]++
		}
		t.Logf("deliveries per node: %v", nodes)
	})
}

// TestExpiredLeaseIsRetried: an event a dead node claimed is sent once its lease runs out.
func TestExpiredLeaseIsRetried(t *testing.T) {
	backends(t, func(t *testing.T, open func() *sqlstore.Store) {
		st := open()
		client := newClient(t, 2*time.Second)
		rcv := newReceiver(t, client.PublicKeyPEM(), nil)
		p := addPlatform(t, st, rcv.srv.URL)
		held := addEvents(t, st, p.ID, []string{"Customer:held"}, 1)[0]
		stale := addEvents(t, st, p.ID, []string{"Customer:stale"}, 1)[0]
		ctx := context.Background()
		// The dead node's leases: one ending shortly, one already over.
		leaseEnd := now().Add(400 * time.Millisecond)
		got, err := st.ClaimEvents(ctx, grid.EventClaim{PlatformID: p.ID, Owner: "dead", Now: now(), LeaseUntil: leaseEnd, Limit: 1})
		if err != nil || len(got) != 1 || got[0].ID != held.ID {
			t.Fatalf("claim held = %v, %v", got, err)
		}
		at := now()
		got, err = st.ClaimEvents(ctx, grid.EventClaim{PlatformID: p.ID, Owner: "dead", Now: at, LeaseUntil: at.Add(-time.Second), Limit: 1})
		if err != nil || len(got) != 1 || got[0].ID != stale.ID {
			t.Fatalf("claim stale = %v, %v", got, err)
		}
		start(t, st, client, fastOptions("n1"))
		waitFor(t, 5*time.Second, "the stale event", func() bool { return len(rcv.got()) >= 1 })
		if d := rcv.got()[0]; d.ID != stale.ID {
			t.Errorf("first delivery %s, want the stale event %s", d.ID, stale.ID)
		}
		waitFor(t, 5*time.Second, "the held event", func() bool { return len(rcv.got()) >= 2 })
		if time.Now().Before(leaseEnd) {
			t.Errorf("the held event was sent before its lease ended")
		}
		// The receiver answered before the outcome is recorded.
		waitFor(t, 5*time.Second, "the held event to be recorded delivered", func() bool {
			e := eventState(t, st, p.ID, held.ID)
			return e.State == grid.DeliveryDelivered && e.LeaseOwner == ""
		})
	})
}

// TestRetryWindowEnds: an event still failing after its window is DEAD, and the next event
// of its key then goes.
func TestRetryWindowEnds(t *testing.T) {
	st := openSQLite(t)
	client := newClient(t, 2*time.Second)
	var doomed string
	rcv := newReceiver(t, client.PublicKeyPEM(), func(d delivery, n int) int {
		if d.ID == doomed {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	p := addPlatform(t, st, rcv.srv.URL)
	evs := addEvents(t, st, p.ID, []string{"Customer:x"}, 3)
	doomed = evs[0].ID
	opts := fastOptions("n1")
	opts.RetryWindow = 300 * time.Millisecond
	start(t, st, client, opts)
	waitFor(t, 5*time.Second, "the later events", func() bool { return len(rcv.got()) >= 2 })
	e := eventState(t, st, p.ID, doomed)
	if e.State != grid.DeliveryDead || e.Attempts < 2 {
		t.Errorf("doomed event: state %s after %d attempts, want DEAD after several", e.State, e.Attempts)
	}
	if !e.NextAttemptAt.Before(time.Now()) {
		t.Errorf("dead event still has a next attempt at %v", e.NextAttemptAt)
	}
	if got := rcv.got(); got[0].Seq != 1 || got[1].Seq != 2 {
		t.Errorf("deliveries %v, want seq 1 then 2", got)
	}
}

// TestTestWebhookIsNotRetried: a TEST event gets one attempt.
func TestTestWebhookIsNotRetried(t *testing.T) {
	st := openSQLite(t)
	client := newClient(t, 2*time.Second)
	rcv := newReceiver(t, client.PublicKeyPEM(), func(delivery, int) int { return http.StatusBadGateway })
	p := addPlatform(t, st, rcv.srv.URL)
	ev := &grid.Event{ID: grid.NewID("Webhook"), PlatformID: p.ID, Type: grid.WebhookTypeTest, Body: []byte(`{"type":"TEST"}`), CreatedAt: now()}
	mustTx(t, st, func(tx grid.Tx) error { return tx.InsertEvent(t.Context(), ev) })
	start(t, st, client, fastOptions("n1"))
	waitFor(t, 5*time.Second, "the test webhook to die", func() bool { return eventState(t, st, p.ID, ev.ID).State == grid.DeliveryDead })
	time.Sleep(100 * time.Millisecond)
	if e := eventState(t, st, p.ID, ev.ID); e.Attempts != 1 {
		t.Errorf("TEST webhook attempts = %d, want 1", e.Attempts)
	}
}

// TestHangingEndpointDoesNotHoldUpOthers: a platform whose endpoint never answers uses at
// most its share of the workers; another platform's events go through meanwhile.
func TestHangingEndpointDoesNotHoldUpOthers(t *testing.T) {
	st := openSQLite(t)
	client := newClient(t, 3*time.Second)
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) })
	rcv := newReceiver(t, client.PublicKeyPEM(), nil)
	slow := addPlatform(t, st, hang.URL)
	fast := addPlatform(t, st, rcv.srv.URL)
	var slowKeys, fastKeys []string
	for i := range 10 {
		slowKeys = append(slowKeys, fmt.Sprintf("Customer:s%d", i))
		fastKeys = append(fastKeys, fmt.Sprintf("Customer:f%d", i))
	}
	addEvents(t, st, slow.ID, slowKeys, 2)
	fastEvs := addEvents(t, st, fast.ID, fastKeys, 2)
	opts := fastOptions("n1")
	opts.Workers, opts.PerPlatform = 4, 2
	start(t, st, client, opts)
	began := time.Now()
	waitFor(t, 2*time.Second, "the healthy platform's events", func() bool { return len(rcv.got()) >= len(fastEvs) })
	t.Logf("healthy platform served in %v while the other hangs", time.Since(began))
	checkOrder(t, rcv.got(), fastKeys, 2)
}

// TestNoEndpoint: events of a platform without an endpoint become UNDELIVERABLE.
func TestNoEndpoint(t *testing.T) {
	st := openSQLite(t)
	client := newClient(t, time.Second)
	p := addPlatform(t, st, "")
	evs := addEvents(t, st, p.ID, []string{"Customer:n"}, 2)
	start(t, st, client, fastOptions("n1"))
	waitFor(t, 5*time.Second, "undeliverable events", func() bool {
		return eventState(t, st, p.ID, evs[1].ID).State == grid.DeliveryUndeliverable
	})
	if e := eventState(t, st, p.ID, evs[0].ID); e.State != grid.DeliveryUndeliverable || e.Attempts != 0 {
		t.Errorf("event: state %s, attempts %d; want UNDELIVERABLE, 0", e.State, e.Attempts)
	}
}

// TestShutdownHandsEventsBack: stopping mid-delivery cancels the request and frees the event
// for another node, without counting an attempt.
func TestShutdownHandsEventsBack(t *testing.T) {
	st := openSQLite(t)
	client := newClient(t, 10*time.Second)
	arrived := make(chan struct{}, 1)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The server notices a client that went away only once the body is read.
		io.ReadAll(r.Body)
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-r.Context().Done()
	}))
	t.Cleanup(hang.Close)
	p := addPlatform(t, st, hang.URL)
	ev := addEvents(t, st, p.ID, []string{"Customer:z"}, 1)[0]
	stop := start(t, st, client, fastOptions("n1"))
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("the webhook never arrived")
	}
	began := time.Now()
	stop()
	if d := time.Since(began); d > 3*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	e := eventState(t, st, p.ID, ev.ID)
	if e.State != grid.DeliveryPending || e.Attempts != 0 || e.LeaseOwner != "" {
		t.Errorf("after shutdown: state %s, attempts %d, owner %q; want PENDING, 0, none", e.State, e.Attempts, e.LeaseOwner)
	}
}

func TestBackoff(t *testing.T) {
	base, max := time.Second, time.Hour
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 11: 1024 * time.Second, 12: 2048 * time.Second, 13: time.Hour, 40: time.Hour} {
		if got := webhook.Backoff(n, base, max, 0.999999); got < want*99/100 || got > want {
			t.Errorf("Backoff(%d) with top jitter = %v, want about %v", n, got, want)
		}
		if got := webhook.Backoff(n, base, max, 0); got != want*3/4 {
			t.Errorf("Backoff(%d) with bottom jitter = %v, want %v", n, got, want*3/4)
		}
	}
	// The retries of the default policy last at least a day: count the attempts it makes.
	var total time.Duration
	n := 0
	for total < webhook.DefaultRetryWindow {
		n++
		total += webhook.Backoff(n, webhook.DefaultBaseDelay, webhook.DefaultMaxDelay, 0)
	}
	t.Logf("default policy: %d attempts before giving up (at the shortest jitter)", n+1)
}
