// memtop bench workload for Go's allocator: one heap allocation per event (one call of
// runtime.mallocgc), of a size cycling through mb_malloc.c's sizes, each kept reachable for 64
// events. The protocol of the C workloads (bench.h): `mb_go <events> <events_per_sec>`, a ready
// line, a line on stdin for go, then the timed events and a done line. The done line also has
// "mallocs", the heap allocations the Go runtime counted meanwhile (runtime.MemStats), which
// says whether an event is one mallocgc call and nothing more.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

var sizes = []int{16, 24, 100, 256, 1000, 4096, 8000, 40000}

// ring keeps each block reachable from a package-level variable, so that the compiler cannot put
// it on the stack and every make is a heap allocation.
var ring [64][]byte

func number(text string, name string) float64 {
	value, err := strconv.ParseFloat(text, 64)
	if err != nil || value < 0 {
		fmt.Fprintf(os.Stderr, "%s must be a non-negative number, got '%s'\n", name, text)
		os.Exit(2)
	}
	return value
}

func cpuNs() int64 {
	var usage syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &usage)
	return usage.Utime.Nano() + usage.Stime.Nano()
}

func majflt() int64 {
	var usage syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &usage)
	return usage.Majflt
}

func mallocs() uint64 {
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	return stats.Mallocs
}

func event(index int) {
	block := make([]byte, sizes[index%len(sizes)])
	block[0] = 1
	ring[index%len(ring)] = block
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintf(os.Stderr, "usage: mb_go <events (0: until killed)> <events_per_sec (0: unpaced)>\n")
		os.Exit(2)
	}
	events := int(number(os.Args[1], "events"))
	perSecond := number(os.Args[2], "events_per_sec")
	// Die with the bench even when it is killed outright, as bench.h's workloads do.
	syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0)
	fmt.Printf("{\"phase\":\"ready\",\"pid\":%d}\n", os.Getpid())
	// Go: a line on stdin, or its end.
	bufio.NewReader(os.Stdin).ReadString('\n')
	faults := majflt()
	before := mallocs()
	cpu := cpuNs()
	start := time.Now()
	index := 0
	for ; events == 0 || index < events; index++ {
		// Paced like bench.h's mb_pace: checked every 64 events, or every event below 1,000 a second.
		if perSecond > 0 && (perSecond < 1000 || index&63 == 0) {
			due := start.Add(time.Duration(float64(index) * 1e9 / perSecond))
			if wait := time.Until(due); wait > time.Millisecond {
				time.Sleep(wait)
			}
		}
		event(index)
	}
	ns := time.Since(start).Nanoseconds()
	cpu = cpuNs() - cpu
	fmt.Printf("{\"phase\":\"done\",\"ns\":%d,\"cpuNs\":%d,\"events\":%d,\"majflt\":%d,\"mallocs\":%d}\n", ns, cpu, index, majflt()-faults, mallocs()-before)
}
