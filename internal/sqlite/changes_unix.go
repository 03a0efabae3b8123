//go:build unix

package sqlite

import (
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fileCounter is a grid.ChangeCounter kept in an 8-byte file beside the database and mapped
// into memory shared by every process that opens it, as SQLite shares its WAL index (the
// -shm file): an atomic add in one process is seen by an atomic load in another. Like the
// database itself, it needs every process on one host.
type fileCounter struct {
	mem []byte
	n   *atomic.Uint64
}

func openChangeCounter(dbPath string) (*fileCounter, error) {
	f, err := os.OpenFile(dbPath+"-changes", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: change counter: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("sqlite: change counter: %w", err)
	}
	// Growing a file to the size it already has changes nothing, so two processes opening a
	// new counter at once cannot zero each other's value.
	if fi.Size() < 8 {
		if err := f.Truncate(8); err != nil {
			return nil, fmt.Errorf("sqlite: change counter: %w", err)
		}
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, 8, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("sqlite: change counter: map: %w", err)
	}
	// mmap returns page-aligned memory, so the counter is aligned for 64-bit atomics.
	return &fileCounter{mem: mem, n: (*atomic.Uint64)(unsafe.Pointer(&mem[0]))}, nil
}

func (c *fileCounter) Load() uint64 { return c.n.Load() }
func (c *fileCounter) Add() uint64  { return c.n.Add(1) }

func (c *fileCounter) close() { unix.Munmap(c.mem) }
