package webhook

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gridd/gridd/internal/grid"
)

// Store is what the Dispatcher needs from the database.
type Store interface {
	grid.Outbox
	ListPlatforms(ctx context.Context) ([]*grid.Platform, error)
}

// Defaults applied when an Options field is zero.
const (
	DefaultWorkers      = 16
	DefaultPerPlatform  = 4
	DefaultPollInterval = time.Second
	DefaultLease        = time.Minute
	DefaultBaseDelay    = time.Second
	DefaultMaxDelay     = time.Hour
	DefaultRetryWindow  = 24 * time.Hour
)

// wakeDelay is how long a wake-up waits for others to join it before the outbox is scanned.
const wakeDelay = 5 * time.Millisecond

// Options tune a Dispatcher.
type Options struct {
	// Node names this dispatcher as the owner of its leases; default host name and a random
	// suffix. Every dispatcher sharing a database needs its own.
	Node string
	// Workers bounds the deliveries in flight; PerPlatform bounds those of one platform, so
	// that a platform whose endpoint hangs cannot take every worker.
	Workers     int
	PerPlatform int
	// PollInterval is how often the outbox is scanned when nothing wakes the dispatcher.
	PollInterval time.Duration
	// Lease is how long a claimed event belongs to this node. It must exceed the sender's
	// timeout: a lease that runs out lets another node send the event again.
	Lease time.Duration
	// A failed event is retried after BaseDelay, doubling per failure up to MaxDelay, with
	// jitter, until RetryWindow has passed since it was created (or redelivered); the
	// failure after that makes it DEAD.
	BaseDelay   time.Duration
	MaxDelay    time.Duration
	RetryWindow time.Duration
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.Node == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		crand.Read(b)
		o.Node = host + "-" + hex.EncodeToString(b)
	}
	setDefault(&o.Workers, DefaultWorkers)
	setDefault(&o.PerPlatform, DefaultPerPlatform)
	setDefault(&o.PollInterval, DefaultPollInterval)
	setDefault(&o.Lease, DefaultLease)
	setDefault(&o.BaseDelay, DefaultBaseDelay)
	setDefault(&o.MaxDelay, DefaultMaxDelay)
	setDefault(&o.RetryWindow, DefaultRetryWindow)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Dispatcher delivers the outbox of every platform: at least once, one node at a time per
// event, and in order per OrderKey (an event waits while an earlier one of its key is
// pending). Events of a platform without a webhook endpoint become UNDELIVERABLE.
type Dispatcher struct {
	store  Store
	sender grid.WebhookSender
	opts   Options
	log    *slog.Logger

	wake chan struct{}

	mu       sync.Mutex
	inflight map[string]int // per platform
	total    int
	rotation int
}

// New returns a Dispatcher; Run starts it.
func New(store Store, sender grid.WebhookSender, opts Options) *Dispatcher {
	opts.defaults()
	return &Dispatcher{
		store: store, sender: sender, opts: opts, log: opts.Logger.With("component", "webhooks", "node", opts.Node),
		wake: make(chan struct{}, 1), inflight: map[string]int{},
	}
}

// Node returns the name the dispatcher holds its leases under.
func (d *Dispatcher) Node() string { return d.opts.Node }

// Notify asks the dispatcher to scan the outbox now rather than at its next poll.
func (d *Dispatcher) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then cancels the deliveries in flight, hands their events
// back for another node to take at once, and returns nil.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-d.wake:
			// Deliveries that finish close together share one scan.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(min(wakeDelay, d.opts.PollInterval)):
			}
		}
		d.poll(ctx, &wg)
		timer.Reset(d.opts.PollInterval)
	}
}

// room returns how many more deliveries the platform may start now.
func (d *Dispatcher) room(platformID string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return min(d.opts.PerPlatform-d.inflight[platformID], d.opts.Workers-d.total)
}

func (d *Dispatcher) busy(platformID string, delta int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.inflight[platformID] += delta
	d.total += delta
	if d.inflight[platformID] == 0 {
		delete(d.inflight, platformID)
	}
}

// poll claims what each platform may take now and starts its deliveries. Platforms are
// visited from a rotating start so that none is always served last when workers are scarce.
func (d *Dispatcher) poll(ctx context.Context, wg *sync.WaitGroup) {
	readAt := d.now()
	platforms, err := d.store.ListPlatforms(ctx)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("list platforms", "err", err)
		}
		return
	}
	if len(platforms) == 0 {
		return
	}
	d.rotation++
	for i := range platforms {
		p := platforms[(d.rotation+i)%len(platforms)]
		if ctx.Err() != nil {
			return
		}
		if p.Webhook == "" {
			n, err := d.store.SkipEvents(ctx, p.ID, readAt, d.now())
			if err != nil && ctx.Err() == nil {
				d.log.Warn("mark events undeliverable", "platform", p.ID, "err", err)
			}
			if n > 0 {
				d.log.Info("platform has no webhook endpoint: events marked undeliverable", "platform", p.ID, "count", n)
			}
			continue
		}
		room := d.room(p.ID)
		if room <= 0 {
			continue
		}
		now := d.now()
		evs, err := d.store.ClaimEvents(ctx, grid.EventClaim{PlatformID: p.ID, Owner: d.opts.Node, Now: now, LeaseUntil: now.Add(d.opts.Lease), Limit: room})
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, grid.ErrRetry) {
				d.log.Error("claim events", "platform", p.ID, "err", err)
			}
			continue
		}
		for _, ev := range evs {
			d.busy(p.ID, 1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer d.busy(p.ID, -1)
				d.deliver(ctx, p.Webhook, ev)
				// A slot is free, and the next event of this key may be due: look again.
				d.Notify()
			}()
		}
	}
}

func (d *Dispatcher) now() time.Time { return d.opts.Now().UTC().Truncate(time.Microsecond) }

// deliver sends one claimed event and records the outcome.
func (d *Dispatcher) deliver(ctx context.Context, endpoint string, ev *grid.EventDelivery) {
	start := d.now()
	res, err := d.sender.Send(ctx, endpoint, ev.Body)
	out := grid.DeliveryOutcome{EventID: ev.ID, Owner: d.opts.Node, LeaseUntil: ev.LeaseUntil}
	if err != nil && ctx.Err() != nil {
		// Shutting down cut the request: no verdict on the receiver. Hand the event back.
		out.State, out.Failures, out.NextAttemptAt = grid.DeliveryPending, ev.Failures, ev.NextAttemptAt
		d.finish(ctx, out)
		return
	}
	done := d.now()
	a := &grid.DeliveryAttempt{ID: grid.NewID("WebhookAttempt"), EventID: ev.ID, PlatformID: ev.PlatformID, Node: d.opts.Node, At: start, Latency: done.Sub(start)}
	out.Attempt = a
	switch {
	case err != nil:
		a.Error = err.Error()
	case res.Status >= 200 && res.Status < 300, res.Status == 409:
		// 409 is the receiver saying it already processed this id: Grid does not retry it.
		a.StatusCode, a.Latency = res.Status, res.Latency
	default:
		a.StatusCode, a.Latency = res.Status, res.Latency
		a.Error = fmt.Sprintf("endpoint answered %d", res.Status)
		if snippet := answerSnippet(res.Body); snippet != "" {
			a.Error += ": " + snippet
		}
	}
	if a.Error == "" {
		out.State, out.DeliveredAt = grid.DeliveryDelivered, done
		d.log.Debug("webhook delivered", "event", ev.ID, "platform", ev.PlatformID, "status", a.StatusCode, "latency_ms", a.Latency.Milliseconds())
	} else {
		out.Failures = ev.Failures + 1
		out.State, out.NextAttemptAt = grid.DeliveryPending, done.Add(Backoff(out.Failures, d.opts.BaseDelay, d.opts.MaxDelay, rand.Float64()))
		if ev.Type == grid.WebhookTypeTest || !done.Before(ev.ScheduledAt.Add(d.opts.RetryWindow)) {
			out.State, out.NextAttemptAt = grid.DeliveryDead, time.Time{}
		}
		d.log.Warn("webhook delivery failed", "event", ev.ID, "platform", ev.PlatformID, "attempt", ev.Attempts+1,
			"status", a.StatusCode, "err", a.Error, "state", out.State, "next_attempt_at", out.NextAttemptAt)
	}
	d.finish(ctx, out)
}

// finish records an outcome, even while shutting down, retrying while the database asks to.
func (d *Dispatcher) finish(ctx context.Context, out grid.DeliveryOutcome) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var err error
	for attempt := range 8 {
		err = d.store.FinishDelivery(fctx, out)
		if !errors.Is(err, grid.ErrRetry) {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}
	switch {
	case errors.Is(err, grid.ErrNotFound):
		// The lease ran out and another node took the event; it decides what happens next.
		d.log.Warn("webhook lease lost before the outcome was recorded", "event", out.EventID)
	case err != nil:
		// The lease will run out and the event be sent again: at least once.
		d.log.Error("record webhook outcome", "event", out.EventID, "err", err)
	}
}

// Backoff returns the wait after the n-th consecutive failure (n ≥ 1): base doubled per
// failure, capped at max, then scaled by a jitter factor in [0.75, 1] chosen by r in [0, 1).
func Backoff(n int, base, max time.Duration, r float64) time.Duration {
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return time.Duration(float64(d) * (0.75 + 0.25*r))
}

// answerSnippet returns the start of a receiver's answer for an attempt's error, if it is text.
func answerSnippet(b []byte) string {
	const n = 200
	if len(b) > n {
		b = b[:n]
	}
	for len(b) > 0 && !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	return string(b)
}
