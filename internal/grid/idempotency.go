package grid

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Idempotency record states.
const (
	// IdempotencyPending marks a key whose first request is still running (or whose node died).
	IdempotencyPending = "pending"
	// IdempotencyDone marks a key whose response is recorded and is replayed to retries.
	IdempotencyDone = "done"
)

// Default idempotency timings.
const (
	DefaultIdempotencyTTL   = 24 * time.Hour
	DefaultIdempotencyLease = 60 * time.Second
	DefaultIdempotencyWait  = 30 * time.Second
)

// MaxIdempotencyKeyLen is the longest Idempotency-Key accepted, in bytes.
const MaxIdempotencyKeyLen = 255

// IdempotencyPolicy sets how long keys are remembered and how concurrent retries behave.
type IdempotencyPolicy struct {
	// TTL is how long after its first use a key is remembered; older rows count as absent.
	TTL time.Duration
	// Lease is how long a pending claim is honoured; an older one is presumed abandoned by a
	// crashed node and may be taken over.
	Lease time.Duration
	// Wait bounds how long a retry waits for the first request to finish before it is answered
	// 409 IDEMPOTENCY_KEY_IN_USE.
	Wait time.Duration
}

// IdempotencyRecord is what a Store keeps under one platform's Idempotency-Key.
type IdempotencyRecord struct {
	PlatformID string
	Key        string
	// RequestHash identifies the request (method, path, body) the key was first used with.
	RequestHash []byte
	// State is IdempotencyPending or IdempotencyDone.
	State string
	// CreatedAt is when this use of the key began; the key expires TTL after it.
	CreatedAt time.Time
	// ClaimedAt is when the current claim was taken. It identifies the claim: completing,
	// releasing and taking over a claim are compare-and-set operations on it.
	ClaimedAt time.Time
	// Status, ContentType and Body are the recorded response once State is IdempotencyDone.
	// Body is sealed by the service: a response may carry a token secret.
	Status      int
	ContentType string
	Body        []byte
}

// IdempotentRequest is a request sent with an Idempotency-Key.
type IdempotentRequest struct {
	Key    string
	Method string
	Path   string
	Body   []byte
}

// RecordedResponse is the response of a request made under an Idempotency-Key, as replayed.
type RecordedResponse struct {
	Status      int
	ContentType string
	Body        []byte
}

// IdempotencyClaim is the right to run one request under its key. Its holder calls exactly
// one of Complete and Release.
type IdempotencyClaim struct {
	svc        *Service
	platformID string
	key        string
	claimedAt  time.Time
}

// SetIdempotencyPolicy replaces the idempotency timings; zero fields keep their defaults. Call
// it before the service handles requests.
func (s *Service) SetIdempotencyPolicy(p IdempotencyPolicy) {
	s.idem = p
}

func (s *Service) idempotencyPolicy() IdempotencyPolicy {
	p := s.idem
	if p.TTL <= 0 {
		p.TTL = DefaultIdempotencyTTL
	}
	if p.Lease <= 0 {
		p.Lease = DefaultIdempotencyLease
	}
	if p.Wait <= 0 {
		p.Wait = DefaultIdempotencyWait
	}
	return p
}

// CheckIdempotencyKey returns a 400 INVALID_INPUT error naming the Idempotency-Key header
// unless key is 1 to 255 printable ASCII characters.
func CheckIdempotencyKey(key string) error {
	msg := ""
	switch {
	case key == "":
		msg = "must not be empty"
	case len(key) > MaxIdempotencyKeyLen:
		msg = fmt.Sprintf("must be at most %d characters", MaxIdempotencyKeyLen)
	default:
		for i := 0; i < len(key); i++ {
			if key[i] < 0x20 || key[i] > 0x7e {
				msg = "must contain only printable ASCII characters"
				break
			}
		}
	}
	if msg == "" {
		return nil
	}
	return InvalidInput(FieldError{Field: "Idempotency-Key", Message: msg})
}

// requestHash fingerprints a request: a key may only be reused with the same method, path and
// body.
func requestHash(req IdempotentRequest) []byte {
	body := sha256.Sum256(req.Body)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", req.Method, req.Path)
	h.Write(body[:])
	return h.Sum(nil)
}

// cleanupOneIn is how many claims, on average, share one sweep of expired keys.
const cleanupOneIn = 100

// ClaimIdempotencyKey decides what to do with a request sent under an Idempotency-Key, for
// the caller's platform. It returns either a claim, when the caller is to run the request (the
// claim is committed before this returns, so that other nodes see it), or the recorded
// response to replay. When the key's first request is still running, it waits for its
// response, up to the policy's Wait and ctx. Errors: 400 INVALID_INPUT for a malformed key,
// 409 IDEMPOTENCY_KEY_REUSED when the key was used with another request, 409
// IDEMPOTENCY_KEY_IN_USE when the first request does not finish in time.
func (s *Service) ClaimIdempotencyKey(ctx context.Context, p *Principal, req IdempotentRequest) (*IdempotencyClaim, *RecordedResponse, error) {
	if err := CheckIdempotencyKey(req.Key); err != nil {
		return nil, nil, err
	}
	pol := s.idempotencyPolicy()
	hash := requestHash(req)
	pid := p.Platform.ID
	deadline := time.Now().Add(pol.Wait)
	delay := 5 * time.Millisecond
	var cur *IdempotencyRecord // nil: the key is not known to be taken; try to insert it
	for {
		now := s.Now()
		claim := &IdempotencyRecord{PlatformID: pid, Key: req.Key, RequestHash: hash, State: IdempotencyPending, CreatedAt: now, ClaimedAt: now}
		if cur == nil {
			ok, err := s.insertClaim(ctx, claim, now.Add(-pol.TTL))
			if err != nil || ok {
				return s.claimOf(claim, err)
			}
		} else {
			switch {
			case !now.Before(cur.CreatedAt.Add(pol.TTL)):
				// Expired: the key counts as unused.
				ok, err := s.reclaim(ctx, claim, cur)
				if err != nil || ok {
					return s.claimOf(claim, err)
				}
			case !bytes.Equal(cur.RequestHash, hash):
				return nil, nil, Errorf(409, CodeIdempotencyKeyReused, "this Idempotency-Key was already used with a different request (method, path or body)")
			case cur.State == IdempotencyDone:
				body, err := s.sealer.Open(cur.Body)
				if err != nil {
					return nil, nil, fmt.Errorf("open recorded response of idempotency key: %w", err)
				}
				return nil, &RecordedResponse{Status: cur.Status, ContentType: cur.ContentType, Body: body}, nil
			case !now.Before(cur.ClaimedAt.Add(pol.Lease)):
				// The first attempt has held the key past its lease: presume its node died
				// and run the request here.
				claim.CreatedAt = cur.CreatedAt
				ok, err := s.reclaim(ctx, claim, cur)
				if err != nil || ok {
					return s.claimOf(claim, err)
				}
			default:
				// The first attempt is still running: wait for its answer.
				wait := time.Until(deadline)
				if wait <= 0 {
					return nil, nil, Errorf(409, CodeIdempotencyKeyInFlight, "a request with this Idempotency-Key is still being processed; retry later")
				}
				if err := sleep(ctx, min(delay, wait)); err != nil {
					return nil, nil, err
				}
				delay = min(2*delay, 100*time.Millisecond)
			}
		}
		var err error
		cur, err = s.store.GetIdempotencyKey(ctx, pid, req.Key)
		if errors.Is(err, ErrNotFound) {
			cur = nil
		} else if err != nil {
			return nil, nil, fmt.Errorf("idempotency key: %w", err)
		}
	}
}

func (s *Service) claimOf(rec *IdempotencyRecord, err error) (*IdempotencyClaim, *RecordedResponse, error) {
	if err != nil {
		return nil, nil, err
	}
	return &IdempotencyClaim{svc: s, platformID: rec.PlatformID, key: rec.Key, claimedAt: rec.ClaimedAt}, nil, nil
}

// insertClaim commits a new pending row; false means the key is taken. Now and then it also
// sweeps keys created before expiredBefore, so that the table stays small.
func (s *Service) insertClaim(ctx context.Context, rec *IdempotencyRecord, expiredBefore time.Time) (bool, error) {
	sweep := rand.IntN(cleanupOneIn) == 0
	err := s.tx(ctx, func(tx Tx) error {
		if sweep {
			if _, err := tx.DeleteIdempotencyKeysBefore(ctx, expiredBefore); err != nil {
				return err
			}
		}
		return tx.InsertIdempotencyKey(ctx, rec)
	})
	var dup *DuplicateError
	if errors.As(err, &dup) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim idempotency key: %w", err)
	}
	return true, nil
}

// reclaim replaces the row read as prev with rec; false means another request changed it
// first.
func (s *Service) reclaim(ctx context.Context, rec, prev *IdempotencyRecord) (bool, error) {
	err := s.tx(ctx, func(tx Tx) error { return tx.ReclaimIdempotencyKey(ctx, rec, prev) })
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reclaim idempotency key: %w", err)
	}
	return true, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Complete records the response of the claimed request, to be replayed to retries. It runs
// even when ctx is cancelled (the client leaving does not undo the request). It returns
// ErrNotFound when the claim was lost: its lease ran out and another request took it over.
func (c *IdempotencyClaim) Complete(ctx context.Context, resp RecordedResponse) error {
	ctx = context.WithoutCancel(ctx)
	sealed, err := c.svc.sealer.Seal(resp.Body)
	if err != nil {
		return fmt.Errorf("seal recorded response: %w", err)
	}
	err = c.svc.tx(ctx, func(tx Tx) error {
		return tx.CompleteIdempotencyKey(ctx, c.platformID, c.key, c.claimedAt, resp.Status, resp.ContentType, sealed)
	})
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	return nil
}

// Release gives the key up without recording a response, so that a retry runs the request
// again; it is for failures that did not process the request (5xx, panics, cancellations). It
// runs even when ctx is cancelled, and returns ErrNotFound when the claim was already lost.
func (c *IdempotencyClaim) Release(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	err := c.svc.tx(ctx, func(tx Tx) error { return tx.DeleteIdempotencyKey(ctx, c.platformID, c.key, c.claimedAt) })
	if err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}
