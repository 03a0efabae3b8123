package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Memory is a process's resident memory as Linux reports it in /proc/PID/status.
type Memory struct {
	RSSKiB  int64 // VmRSS: resident now
	PeakKiB int64 // VmHWM: the highest resident size so far
}

// ReadMemory reads the resident memory of process pid (Linux only).
func ReadMemory(pid int) (*Memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	m := &Memory{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch key {
		case "VmRSS":
			dst = &m.RSSKiB
		case "VmHWM":
			dst = &m.PeakKiB
		default:
			continue
		}
		f := strings.Fields(val) // "123456 kB"
		if len(f) > 0 {
			*dst, _ = strconv.ParseInt(f[0], 10, 64)
		}
	}
	if m.RSSKiB == 0 {
		return nil, fmt.Errorf("process %d: no VmRSS in its status", pid)
	}
	return m, nil
}

// MiB formats KiB as MiB with one decimal.
func MiB(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }
