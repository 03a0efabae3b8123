package main

import "runtime/debug"

// defaultGCPercent is the garbage collector's target when GOGC is not set: the server keeps
// little live heap (tens of MiB) and allocates a few KiB per request, so letting the heap
// grow to five times what is live before collecting trades a few MiB for less GC work.
const defaultGCPercent = 400

// tuneGC applies defaultGCPercent unless GOGC chooses otherwise.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}
