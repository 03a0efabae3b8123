package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// maxBatch bounds how many changes share one commit.
const maxBatch = 256

// groupCommitter lets concurrent changes share one durable commit. Each change runs inside its
// own savepoint of a shared transaction, so it stays atomic on its own: a change that fails is
// rolled back to its savepoint without touching the others. Nobody is answered before the
// shared COMMIT (and its fsync) has returned.
type groupCommitter struct {
	db   *sql.DB
	reqs chan *commitReq
	once sync.Once
	quit chan struct{}
	done chan struct{}
}

type commitReq struct {
	ctx  context.Context
	fn   func(*sql.Tx) error
	errc chan error
}

func newGroupCommitter(db *sql.DB) *groupCommitter {
	g := &groupCommitter{db: db, reqs: make(chan *commitReq), quit: make(chan struct{}), done: make(chan struct{})}
	go g.loop()
	return g
}

var errClosed = errors.New("sqlite: store closed")

// run executes fn as one atomic change and returns once it is durable or failed.
func (g *groupCommitter) run(ctx context.Context, fn func(*sql.Tx) error) error {
	r := &commitReq{ctx: ctx, fn: fn, errc: make(chan error, 1)}
	select {
	case g.reqs <- r:
	case <-g.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, the change is either committed or reported failed: wait for the answer even
	// if ctx ends, so that a caller never mistakes a committed change for a lost one.
	return <-r.errc
}

// close stops the loop after the batch in flight.
func (g *groupCommitter) close() {
	g.once.Do(func() { close(g.quit) })
	<-g.done
}

func (g *groupCommitter) loop() {
	defer close(g.done)
	for {
		var first *commitReq
		select {
		case first = <-g.reqs:
		case <-g.quit:
			return
		}
		batch := []*commitReq{first}
	gather:
		for len(batch) < maxBatch {
			select {
			case r := <-g.reqs:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		g.commit(batch)
	}
}

func (g *groupCommitter) commit(batch []*commitReq) {
	tx, err := g.db.BeginTx(context.Background(), nil)
	if err != nil {
		for _, r := range batch {
			r.errc <- fmt.Errorf("sqlite: begin: %w", err)
		}
		return
	}
	var ok []*commitReq
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.errc <- err
			continue
		}
		if _, err := tx.Exec(`SAVEPOINT change`); err != nil {
			r.errc <- fmt.Errorf("sqlite: savepoint: %w", err)
			continue
		}
		if err := r.fn(tx); err != nil {
			if _, rbErr := tx.Exec(`ROLLBACK TO change`); rbErr != nil {
				err = errors.Join(err, rbErr)
			}
			tx.Exec(`RELEASE change`)
			r.errc <- err
			continue
		}
		if _, err := tx.Exec(`RELEASE change`); err != nil {
			r.errc <- fmt.Errorf("sqlite: release savepoint: %w", err)
			continue
		}
		ok = append(ok, r)
	}
	err = tx.Commit()
	for _, r := range ok {
		if err != nil {
			r.errc <- fmt.Errorf("sqlite: commit: %w", err)
		} else {
			r.errc <- nil
		}
	}
}
