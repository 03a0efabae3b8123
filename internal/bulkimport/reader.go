package bulkimport

import (
	"context"
	"encoding/csv"
	"io"

	"github.com/gridd/gridd/internal/grid"
)

// fileReader reads a job's stored file from a byte offset, one chunk in memory at a time.
type fileReader struct {
	ctx  context.Context
	svc  *grid.Service
	job  *grid.BulkJob
	seq  int   // next chunk to load
	skip int64 // bytes to drop from the next chunk
	buf  []byte
}

func newFileReader(ctx context.Context, svc *grid.Service, j *grid.BulkJob, offset int64) *fileReader {
	size := int64(j.ChunkSize)
	return &fileReader{ctx: ctx, svc: svc, job: j, seq: int(offset / size), skip: offset % size}
}

func (r *fileReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.seq >= r.job.Chunks {
			return 0, io.EOF
		}
		data, err := r.svc.BulkChunk(r.ctx, r.job, r.seq)
		if err != nil {
			return 0, err
		}
		r.seq++
		r.buf, r.skip = data[min(r.skip, int64(len(data))):], 0
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// newCSV returns the parser every pass over a file uses, so that they all see the same
// records: any number of fields per record (the header decides), strict quoting.
func newCSV(r io.Reader) *csv.Reader {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return cr
}
