// Package bulkimport runs bulk customer imports: it claims queued jobs, reads their stored CSV
// file as a stream, turns each row into the request POST /customers takes, and hands the rows
// to the service in batches that commit together with the job's progress.
package bulkimport

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/gridd/gridd/internal/grid"
)

// Defaults of a Worker.
const (
	DefaultPoll       = time.Second
	DefaultSweepEvery = 10 * time.Minute
)

// Worker processes bulk import jobs, one at a time, until its context ends. Several workers,
// on one node or many, share the jobs through leases: a job is worked on by one worker at a
// time, and a job whose worker died is resumed by another after BulkLease.
type Worker struct {
	svc *grid.Service
	log *slog.Logger
	// Owner names the worker in job leases.
	Owner string
	// Poll is how long an idle worker waits before it looks for a job again.
	Poll time.Duration
	// BatchRows is how many rows are committed per transaction.
	BatchRows int
	// SweepEvery is how often abandoned uploads are removed.
	SweepEvery time.Duration

	// afterBatch, when set, runs after every committed batch (tests).
	afterBatch func(j *grid.BulkJob)
}

// New returns a worker with the default settings.
func New(svc *grid.Service, log *slog.Logger) *Worker {
	if log == nil {
		log = slog.Default()
	}
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return &Worker{
		svc: svc, log: log, Owner: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b)),
		Poll: DefaultPoll, BatchRows: grid.BulkBatchRows, SweepEvery: DefaultSweepEvery,
	}
}

// Run processes jobs until ctx ends; it then gives up the lease of the job in hand, so that
// the job resumes from its last committed batch as soon as a worker looks for work. It
// returns nil when ctx ends; failures are logged and retried.
func (w *Worker) Run(ctx context.Context) error {
	var lastSweep time.Time
	for ctx.Err() == nil {
		if time.Since(lastSweep) >= w.SweepEvery {
			lastSweep = time.Now()
			if n, err := w.svc.SweepBulkUploads(ctx); err != nil && ctx.Err() == nil {
				w.log.ErrorContext(ctx, "bulk import: sweep abandoned uploads", "err", err)
			} else if n > 0 {
				w.log.InfoContext(ctx, "bulk import: removed abandoned uploads", "count", n)
			}
		}
		found, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.log.ErrorContext(ctx, "bulk import", "err", err)
		}
		if found && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(w.Poll):
		}
	}
	return nil
}

// RunOnce claims one job and works on it until it ends, ctx ends or another worker takes it
// over. It reports whether there was a job. A job that fails for a reason other than its
// content keeps its lease, so that it is retried once the lease runs out.
func (w *Worker) RunOnce(ctx context.Context) (bool, error) {
	j, err := w.svc.ClaimBulkJob(ctx, w.Owner)
	if errors.Is(err, grid.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim job: %w", err)
	}
	log := w.log.With("job", j.ID)
	log.InfoContext(ctx, "bulk import: job claimed", "row", j.Cursor.Row, "attempt", j.Attempts)
	err = w.process(ctx, j)
	switch {
	case ctx.Err() != nil:
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if rerr := w.svc.ReleaseBulkJob(rctx, j); rerr != nil && !errors.Is(rerr, grid.ErrNotFound) {
			log.Error("bulk import: release job", "err", rerr)
		}
		log.Info("bulk import: stopped", "row", j.Cursor.Row)
		return true, nil
	case errors.Is(err, grid.ErrNotFound):
		log.WarnContext(ctx, "bulk import: job taken over by another worker", "row", j.Cursor.Row)
		return true, nil
	case err != nil:
		return true, fmt.Errorf("job %s at row %d: %w", j.ID, j.Cursor.Row, err)
	}
	log.InfoContext(ctx, "bulk import: job finished", "status", j.Status, "succeeded", j.Succeeded, "failed", j.Failed)
	return true, nil
}

// process imports j from its cursor to the end of the file.
func (w *Worker) process(ctx context.Context, j *grid.BulkJob) error {
	if j.Attempts > grid.MaxBulkAttempts {
		// Count the rows the failure covers if the file still reads; it may be why the job
		// keeps failing.
		if j.Total < 0 {
			if n, err := w.count(ctx, j); err == nil {
				if err := w.svc.SetBulkTotal(ctx, j, n); err != nil {
					return err
				}
			}
		}
		return w.svc.FinishBulkJob(ctx, j, &grid.BulkRowError{
			Row: max(j.Cursor.Row+1, headerRow), Code: grid.CodeInternal,
			Message: "the file could not be processed; upload it again",
		})
	}
	if j.Total < 0 {
		n, err := w.count(ctx, j)
		if err != nil {
			return err
		}
		if err := w.svc.SetBulkTotal(ctx, j, n); err != nil {
			return err
		}
	}

	cr := newCSV(newFileReader(ctx, w.svc, j, 0))
	rec, err := cr.Read()
	var pe *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		return w.svc.FinishBulkJob(ctx, j, &grid.BulkRowError{Row: headerRow, Code: grid.CodeInvalidInput, Message: "the file has no header row"})
	case errors.As(err, &pe):
		return w.svc.FinishBulkJob(ctx, j, &grid.BulkRowError{Row: headerRow, Code: grid.CodeInvalidInput, Message: "the header row is not valid CSV: " + pe.Err.Error()})
	case err != nil:
		return err
	}
	h, herr := parseHeader(rec)
	if herr != nil {
		return w.svc.FinishBulkJob(ctx, j, herr)
	}

	// Resume after the last committed row, or go on after the header.
	row, base := int64(headerRow), int64(0)
	if j.Cursor.Row > headerRow {
		row, base = j.Cursor.Row, j.Cursor.Offset
		cr = newCSV(newFileReader(ctx, w.svc, j, base))
	}
	batch := make([]grid.BulkRow, 0, w.BatchRows)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		cursor := grid.BulkCursor{Row: row, Offset: base + cr.InputOffset()}
		if err := w.svc.ImportBulkRows(ctx, j, batch, cursor); err != nil {
			return err
		}
		batch = batch[:0]
		if w.afterBatch != nil {
			w.afterBatch(j)
		}
		return ctx.Err()
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			row++
			batch = append(batch, grid.BulkRow{Row: row, Err: grid.Errorf(400, grid.CodeInvalidInput, "the row is not valid CSV: %v", pe.Err)})
		case err != nil:
			return err
		default:
			row++
			batch = append(batch, h.row(row, rec))
		}
		if len(batch) >= w.BatchRows {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return w.svc.FinishBulkJob(ctx, j, nil)
}

// count returns the number of data rows of j's file, renewing the lease while it reads.
func (w *Worker) count(ctx context.Context, j *grid.BulkJob) (int64, error) {
	cr := newCSV(newFileReader(ctx, w.svc, j, 0))
	var n int64
	renewed := time.Now()
	for {
		_, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) {
			return 0, err
		}
		n++
		if n%4096 == 0 && time.Since(renewed) > grid.BulkLease/4 {
			if err := w.svc.RenewBulkLease(ctx, j); err != nil {
				return 0, err
			}
			renewed = time.Now()
		}
	}
	return max(n-1, 0), nil
}
