package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gridd/gridd/internal/grid"
)

// Webhooks checks the delivery side of the webhook outbox (grid.Outbox): claims with leases,
// order per key, outcomes, undeliverable events, redelivery, lists and attempts. Each
// subtest works on platforms of its own.
func Webhooks(t *testing.T, st grid.Store) {
	t.Run("FreshEvent", func(t *testing.T) { testEventDefaults(t, st) })
	t.Run("ClaimOrderAndLease", func(t *testing.T) { testClaimOrderAndLease(t, st) })
	t.Run("Outcomes", func(t *testing.T) { testDeliveryOutcomes(t, st) })
	t.Run("Undeliverable", func(t *testing.T) { testSkipEvents(t, st) })
	t.Run("Reschedule", func(t *testing.T) { testRescheduleEvent(t, st) })
	t.Run("ListAndAttempts", func(t *testing.T) { testListEvents(t, st) })
	t.Run("ConcurrentClaims", func(t *testing.T) { testConcurrentClaims(t, st) })
}

func newEvent(platformID, orderKey string, at time.Time) *grid.Event {
	id := grid.NewID("Webhook")
	return &grid.Event{ID: id, PlatformID: platformID, Type: "CUSTOMER.KYC_APPROVED", OrderKey: orderKey,
		Body: []byte(`{"id":"` + id + `","type":"CUSTOMER.KYC_APPROVED"}`), CreatedAt: at}
}

func insertEvents(t testing.TB, st grid.Store, evs ...*grid.Event) {
	t.Helper()
	insertAll(t, st, grid.Tx.InsertEvent, evs...)
}

func webhookPlatform(t testing.TB, st grid.Store, endpoint string) *grid.Platform {
	t.Helper()
	p := newPlatform(now())
	p.Webhook = endpoint
	insertPlatforms(t, st, p)
	return p
}

func claim(t testing.TB, st grid.Store, c grid.EventClaim) []*grid.EventDelivery {
	t.Helper()
	for attempt := range 10 {
		evs, err := st.ClaimEvents(t.Context(), c)
		if errors.Is(err, grid.ErrRetry) {
			time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatalf("ClaimEvents(%+v): %v", c, err)
		}
		return evs
	}
	t.Fatalf("ClaimEvents(%+v): still asked to retry", c)
	return nil
}

func eventIDs(evs []*grid.EventDelivery) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	slices.Sort(out)
	return out
}

func getEvent(t testing.TB, st grid.Store, platformID, id string) *grid.EventDelivery {
	t.Helper()
	e, err := st.GetEvent(t.Context(), platformID, id)
	if err != nil {
		t.Fatalf("GetEvent(%s): %v", id, err)
	}
	return e
}

func testEventDefaults(t *testing.T, st grid.Store) {
	at := now()
	p := webhookPlatform(t, st, "https://hooks.example.com/a")
	ev := newEvent(p.ID, "Customer:1", at)
	insertEvents(t, st, ev)
	got := getEvent(t, st, p.ID, ev.ID)
	want := &grid.EventDelivery{Event: *ev, State: grid.DeliveryPending, NextAttemptAt: at, ScheduledAt: at}
	checkEqual(t, "fresh event", want, got)

	_, err := st.GetEvent(t.Context(), newPlatform(at).ID, ev.ID)
	wantNotFound(t, "GetEvent of another platform", err)

	// An event whose transaction rolls back does not exist.
	lost := newEvent(p.ID, "Customer:1", at)
	err = withTx(t.Context(), st, func(tx grid.Tx) error {
		if err := tx.InsertEvent(t.Context(), lost); err != nil {
			return err
		}
		return errors.New("change failed after the event was written")
	})
	if err == nil {
		t.Fatal("WithTx returned nil for a failed change")
	}
	_, err = st.GetEvent(t.Context(), p.ID, lost.ID)
	wantNotFound(t, "GetEvent of a rolled-back event", err)
	if evs := claim(t, st, grid.EventClaim{PlatformID: p.ID, Owner: "n1", Now: at, LeaseUntil: at.Add(time.Minute), Limit: 10}); !slices.Equal(eventIDs(evs), []string{ev.ID}) {
		t.Errorf("claim = %v, want only %s", eventIDs(evs), ev.ID)
	}
}

func testClaimOrderAndLease(t *testing.T, st grid.Store) {
	at := now()
	p := webhookPlatform(t, st, "https://hooks.example.com/a")
	other := webhookPlatform(t, st, "https://hooks.example.com/b")
	e1 := newEvent(p.ID, "Customer:k1", at)
	e2 := newEvent(p.ID, "Customer:k1", at)
	e3 := newEvent(p.ID, "Customer:k2", at)
	e4 := newEvent(p.ID, "", at)
	e5 := newEvent(p.ID, "", at)
	eo := newEvent(other.ID, "Customer:k9", at)
	insertEvents(t, st, e1, e2, e3, e4, e5, eo)

	// Only the first pending event of a key may go; events without a key are independent.
	lease := at.Add(time.Minute)
	got := claim(t, st, grid.EventClaim{PlatformID: p.ID, Owner: "n1", Now: at, LeaseUntil: lease, Limit: 10})
	checkEqual(t, "first claim", sortedIDs(e1.ID, e3.ID, e4.ID, e5.ID), eventIDs(got))
	for _, e := range got {
		if e.LeaseOwner != "n1" || !e.LeaseUntil.Equal(lease) {
			t.Errorf("claimed %s: lease %q until %v, want n1 until %v", e.ID, e.LeaseOwner, e.LeaseUntil, lease)
		}
	}
	// The limit is respected.
	if got := claim(t, st, grid.EventClaim{PlatformID: other.ID, Owner: "n1", Now: at, LeaseUntil: lease, Limit: 1}); len(got) != 1 {
		t.Errorf("claim of other platform with limit 1 returned %d events", len(got))
	}
	// Leased events are nobody else's until the lease runs out.
	if got := claim(t, st, grid.EventClaim{PlatformID: p.ID, Owner: "n2", Now: at.Add(time.Second), LeaseUntil: lease.Add(time.Second), Limit: 10}); len(got) != 0 {
		t.Errorf("claim during lease returned %v", eventIDs(got))
	}
	// After it runs out another node takes them; e2 still waits for e1.
	later := lease.Add(time.Millisecond)
	got = claim(t, st, grid.EventClaim{PlatformID: p.ID, Owner: "n2", Now: later, LeaseUntil: later.Add(time.Minute), Limit: 2})
	if len(got) != 2 {
		t.Fatalf("claim after lease expiry with limit 2 returned %v", eventIDs(got))
	}
	got = append(got, claim(t, st, grid.EventClaim{PlatformID: p.ID, Owner: "n2", Now: later, LeaseUntil: later.Add(time.Minute), Limit: 10})...)
	checkEqual(t, "claims after lease expiry", sortedIDs(e1.ID, e3.ID, e4.ID, e5.ID), eventIDs(got))
}

func finish(t testing.TB, st grid.Store, o grid.DeliveryOutcome) error {
	t.Helper()
	var err error
	for attempt := range 10 {
		if err = st.FinishDelivery(t.Context(), o); !errors.Is(err, grid.ErrRetry) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}
	return err
}

func attempt(e *grid.EventDelivery, node string, at time.Time, status int, msg string) *grid.DeliveryAttempt {
	return &grid.DeliveryAttempt{ID: grid.NewID("WebhookAttempt"), EventID: e.ID, PlatformID: e.PlatformID, Node: node,
		At: at, StatusCode: status, Latency: 42 * time.Millisecond, Error: msg}
}

func testDeliveryOutcomes(t *testing.T, st grid.Store) {
	at := now()
	p := webhookPlatform(t, st, "https://hooks.example.com/a")
	e1 := newEvent(p.ID, "Customer:o1", at)
	e2 := newEvent(p.ID, "Customer:o1", at)
	e3 := newEvent(p.ID, "Customer:o2", at)
	insertEvents(t, st, e1, e2, e3)
	lease := at.Add(time.Minute)
	got := claim(t, st, grid.EventClaim{PlatformID: p.ID, Owner: "n1", Now: at, LeaseUntil: lease, Limit: 10})
	checkEqual(t, "claim", sortedIDs(e1.ID, e3.ID), eventIDs(got))
	c1, c3 := got[0], got[1]
	if c1.ID != e1.ID {
		c1, c3 = c3, c1
	}

	// A node whose lease was taken over cannot record an outcome, but its attempt is kept.
	stale := attempt(c1, "n0", at, 500, "endpoint answered 500")
	err := finish(t, st, grid.DeliveryOutcome{EventID: e1.ID, Owner: "n0", LeaseUntil: lease, Attempt: stale, State: grid.DeliveryDelivered, DeliveredAt: at})
	wantNotFound(t, "FinishDelivery with a lost lease", err)
	if e := getEvent(t, st, p.ID, e1.ID); e.State != grid.DeliveryPending || e.Attempts != 0 || e.LeaseOwner != "n1" {
		t.Errorf("after a lost-lease outcome: state %s, attempts %d, owner %q; want PENDING, 0, n1", e.State, e.Attempts, e.LeaseOwner)
	}

	// e1 delivered: e2 becomes claimable.
	done := at.Add(time.Second)
	ok := attempt(c1, "n1", at, 200, "")
	if err := finish(t, st, grid.DeliveryOutcome{EventID: e1.ID, Owner: "n1", LeaseUntil: c1.LeaseUntil, Attempt: ok, State: grid.DeliveryDelivered, DeliveredAt: done}); err != nil {
		t.Fatalf("FinishDelivery delivered: %v", err)
	}
	e := getEvent(t, st, p.ID, e1.ID)
	if e.State != grid.DeliveryDelivered || e.Attempts != 1 || !e.DeliveredAt.Equal(done) || e.LeaseOwner != "" || !e.LeaseUntil.IsZero() {
		t.Errorf("delivered event = state %s, attempts %d, deliveredAt %v, lease %q %v", e.State, e.Attempts, e.DeliveredAt, e.LeaseOwner, e.LeaseUntil)
	}

	// e3 fails: pending again, not due until its next attempt.
	next := at.Add(time.Hour)
	fail := attempt(c3, "n1", at, 0, "connection refused")
	if err := finish(t, st, grid.DeliveryOutcome{EventID: e3.ID, Owner: "n1", LeaseUntil: c3.LeaseUntil, Attempt: fail, State: grid.DeliveryPending, Failures: 1, NextAttemptAt: next}); err != nil {
		t.Fatalf("FinishDelivery failed attempt: %v", err)
	}
	e = getEvent(t, st, p.ID, e3.ID)
	if e.State != grid.DeliveryPending || e.Attempts != 1 || e.Failures != 1 || !e.NextAttemptAt.Equal(next) || e.LeaseOwner != "" {
		t.Errorf("failed event = state %s, attempts %d, failures %d, next %v, owner %q", e.State, e.Attempts, e.Failures, e.NextAttemptAt, e.LeaseOwner)
	}
	// (e2's lease outlasts the rest of the test.)
	got = claim(t, st, grid.EventClaim{PlatformID: p.ID, Owner: "n1", Now: done, LeaseUntil: done.Add(3 * time.Hour), Limit: 10})
	checkEqual(t, "claim after outcomes", []string{e2.ID}, eventIDs(got))
	got = claim(t, st, grid.EventClaim{PlatformID: p.ID, Owner: "n1", Now: next, LeaseUntil: next.Add(time.Minute), Limit: 10})
	checkEqual(t, "claim when the retry is due", []string{e3.ID}, eventIDs(got))

	// A handed-back event (no attempt) keeps its counters and loses its lease.
	if err := finish(t, st, grid.DeliveryOutcome{EventID: e3.ID, Owner: "n1", LeaseUntil: got[0].LeaseUntil, State: grid.DeliveryPending, Failures: 1, NextAttemptAt: next}); err != nil {
		t.Fatalf("FinishDelivery hand-back: %v", err)
	}
	if e := getEvent(t, st, p.ID, e3.ID); e.Attempts != 1 || e.LeaseOwner != "" {
		t.Errorf("handed-back event: attempts %d, owner %q; want 1, none", e.Attempts, e.LeaseOwner)
	}
	// DEAD is final and frees the key.
	e4 := newEvent(p.ID, "Customer:o2", at)
	insertEvents(t, st, e4)
	got = claim(t, st, grid.EventClaim{PlatformID: p.ID, Owner: "n1", Now: next, LeaseUntil: next.Add(time.Minute), Limit: 10})
	checkEqual(t, "claim e3 again", []string{e3.ID}, eventIDs(got))
	if err := finish(t, st, grid.DeliveryOutcome{EventID: e3.ID, Owner: "n1", LeaseUntil: got[0].LeaseUntil, Attempt: attempt(got[0], "n1", next, 503, "endpoint answered 503"), State: grid.DeliveryDead, Failures: 2}); err != nil {
		t.Fatalf("FinishDelivery dead: %v", err)
	}
	got = claim(t, st, grid.EventClaim{PlatformID: p.ID, Owner: "n1", Now: next, LeaseUntil: next.Add(time.Minute), Limit: 10})
	checkEqual(t, "claim after a dead event", []string{e4.ID}, eventIDs(got))
	if e := getEvent(t, st, p.ID, e3.ID); e.State != grid.DeliveryDead || e.Attempts != 2 {
		t.Errorf("dead event: state %s, attempts %d; want DEAD, 2", e.State, e.Attempts)
	}
	as, err := st.ListDeliveryAttempts(t.Context(), p.ID, e1.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, "attempts of e1", []grid.DeliveryAttempt{*stale, *ok}, as)
}

func testSkipEvents(t *testing.T, st grid.Store) {
	at := now()
	silent := webhookPlatform(t, st, "")
	hooked := webhookPlatform(t, st, "https://hooks.example.com/a")
	s1, s2 := newEvent(silent.ID, "Customer:s1", at), newEvent(silent.ID, "Customer:s1", at)
	late := newEvent(silent.ID, "Customer:s2", at.Add(time.Hour))
	h1 := newEvent(hooked.ID, "Customer:h1", at)
	insertEvents(t, st, s1, s2, late, h1)
	ctx := t.Context()
	n, err := st.SkipEvents(ctx, hooked.ID, at.Add(time.Minute), at)
	if err != nil || n != 0 {
		t.Errorf("SkipEvents on a platform with an endpoint = %d, %v; want 0", n, err)
	}
	n, err = st.SkipEvents(ctx, silent.ID, at.Add(time.Minute), at)
	if err != nil || n != 2 {
		t.Errorf("SkipEvents = %d, %v; want 2", n, err)
	}
	for _, e := range []*grid.Event{s1, s2} {
		if got := getEvent(t, st, silent.ID, e.ID); got.State != grid.DeliveryUndeliverable {
			t.Errorf("%s state = %s, want UNDELIVERABLE", e.ID, got.State)
		}
	}
	if got := getEvent(t, st, silent.ID, late.ID); got.State != grid.DeliveryPending {
		t.Errorf("event created after the cut-off: state %s, want PENDING", got.State)
	}
	if got := getEvent(t, st, hooked.ID, h1.ID); got.State != grid.DeliveryPending {
		t.Errorf("event of a platform with an endpoint: state %s, want PENDING", got.State)
	}
}

func testRescheduleEvent(t *testing.T, st grid.Store) {
	at := now()
	p := webhookPlatform(t, st, "https://hooks.example.com/a")
	e1 := newEvent(p.ID, "Customer:r1", at)
	insertEvents(t, st, e1)
	got := claim(t, st, grid.EventClaim{PlatformID: p.ID, Owner: "n1", Now: at, LeaseUntil: at.Add(time.Minute), Limit: 1})
	if len(got) != 1 {
		t.Fatalf("claim returned %d events", len(got))
	}
	if err := finish(t, st, grid.DeliveryOutcome{EventID: e1.ID, Owner: "n1", LeaseUntil: got[0].LeaseUntil, Attempt: attempt(got[0], "n1", at, 500, "x"), State: grid.DeliveryDead, Failures: 7}); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	again := at.Add(48 * time.Hour)
	if err := st.RescheduleEvent(ctx, p.ID, e1.ID, again); err != nil {
		t.Fatalf("RescheduleEvent: %v", err)
	}
	e := getEvent(t, st, p.ID, e1.ID)
	if e.State != grid.DeliveryPending || e.Failures != 0 || e.Attempts != 1 || !e.NextAttemptAt.Equal(again) || !e.ScheduledAt.Equal(again) {
		t.Errorf("rescheduled event: state %s, failures %d, attempts %d, next %v, scheduled %v", e.State, e.Failures, e.Attempts, e.NextAttemptAt, e.ScheduledAt)
	}
	wantNotFound(t, "RescheduleEvent of an unknown id", st.RescheduleEvent(ctx, p.ID, grid.NewID("Webhook"), again))
	wantNotFound(t, "RescheduleEvent of another platform's event", st.RescheduleEvent(ctx, newPlatform(at).ID, e1.ID, again))
}

func testListEvents(t *testing.T, st grid.Store) {
	at := now()
	p := webhookPlatform(t, st, "https://hooks.example.com/a")
	other := webhookPlatform(t, st, "https://hooks.example.com/b")
	var ids []string
	for i := range 5 {
		e := newEvent(p.ID, fmt.Sprintf("Customer:l%d", i), at.Add(time.Duration(i)*time.Second))
		insertEvents(t, st, e)
		ids = append(ids, e.ID)
	}
	insertEvents(t, st, newEvent(other.ID, "Customer:l9", at))
	ctx := t.Context()
	page, err := st.ListEvents(ctx, p.ID, grid.EventFilter{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if page.TotalCount != 5 || !page.HasMore || len(page.Events) != 2 || page.Events[0].ID != ids[4] || page.Events[1].ID != ids[3] {
		t.Fatalf("first page: total %d, hasMore %t, ids %v; want 5, true, [%s %s]", page.TotalCount, page.HasMore, eventIDs(page.Events), ids[4], ids[3])
	}
	page, err = st.ListEvents(ctx, p.ID, grid.EventFilter{Limit: 10, BeforeID: ids[3]})
	if err != nil {
		t.Fatal(err)
	}
	if page.HasMore || len(page.Events) != 3 || page.Events[0].ID != ids[2] || page.Events[2].ID != ids[0] {
		t.Errorf("second page: hasMore %t, ids %v", page.HasMore, eventIDs(page.Events))
	}
	// Deliver the oldest and filter by state.
	got := claim(t, st, grid.EventClaim{PlatformID: p.ID, Owner: "n1", Now: at.Add(time.Minute), LeaseUntil: at.Add(2 * time.Minute), Limit: 10})
	if len(got) != 5 {
		t.Fatalf("claim returned %d events, want 5", len(got))
	}
	for _, e := range got {
		if e.ID == ids[0] {
			if err := finish(t, st, grid.DeliveryOutcome{EventID: e.ID, Owner: "n1", LeaseUntil: e.LeaseUntil, Attempt: attempt(e, "n1", at, 204, ""), State: grid.DeliveryDelivered, DeliveredAt: at}); err != nil {
				t.Fatal(err)
			}
		}
	}
	page, err = st.ListEvents(ctx, p.ID, grid.EventFilter{State: grid.DeliveryDelivered})
	if err != nil {
		t.Fatal(err)
	}
	if page.TotalCount != 1 || len(page.Events) != 1 || page.Events[0].ID != ids[0] {
		t.Errorf("DELIVERED filter: total %d, ids %v; want [%s]", page.TotalCount, eventIDs(page.Events), ids[0])
	}
	if as, err := st.ListDeliveryAttempts(ctx, other.ID, ids[0]); err != nil || len(as) != 0 {
		t.Errorf("attempts of another platform's event = %v, %v; want none", as, err)
	}
}

// testConcurrentClaims has several claimers drain one platform's outbox at once: each event
// is claimed exactly once.
func testConcurrentClaims(t *testing.T, st grid.Store) {
	at := now()
	p := webhookPlatform(t, st, "https://hooks.example.com/a")
	const events, claimers = 60, 6
	var want []string
	var evs []*grid.Event
	for i := range events {
		e := newEvent(p.ID, fmt.Sprintf("Customer:c%d", i), at)
		evs = append(evs, e)
		want = append(want, e.ID)
	}
	insertEvents(t, st, evs...)
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	for i := range claimers {
		owner := fmt.Sprintf("n%d", i)
		wg.Go(func() {
			for {
				got, err := st.ClaimEvents(context.Background(), grid.EventClaim{PlatformID: p.ID, Owner: owner, Now: at, LeaseUntil: at.Add(time.Hour), Limit: 3})
				if errors.Is(err, grid.ErrRetry) {
					continue
				}
				if err != nil {
					t.Errorf("ClaimEvents(%s): %v", owner, err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, e := range got {
					if prev, dup := seen[e.ID]; dup {
						t.Errorf("event %s claimed by %s and %s", e.ID, prev, owner)
					}
					seen[e.ID] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	got := make([]string, 0, len(seen))
	for id := range seen {
		got = append(got, id)
	}
	checkEqual(t, "claimed events", sortedIDs(want...), sortedIDs(got...))
}
