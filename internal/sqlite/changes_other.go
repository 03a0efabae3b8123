//go:build !unix

package sqlite

// fileCounter is unavailable without shared memory maps: the store then offers no change
// counter and customers are always read from the database.
type fileCounter struct{}

func openChangeCounter(string) (*fileCounter, error) {
	return nil, nil
}

func (*fileCounter) Load() uint64 { return 0 }
func (*fileCounter) Add() uint64  { return 0 }
func (*fileCounter) close()       {}
