// Command crash is Pinion's crash harness: it runs the real pinion binary
// on one data directory, drives concurrent writers against it, kills it
// with SIGKILL at a random moment, restarts it, and checks that every
// write the server acknowledged is still there and that no revision went
// down. It repeats that for -cycles cycles.
//
//	go build -o /tmp/pinion ./cmd/pinion
//	go run ./bench/crash -bin /tmp/pinion -cycles 100
//
// Each writer is one browser (its own session cookie, so its own
// user-preferences document) that PUTs a numbered document, one request
// at a time. After each restart, a writer's document must be at the
// revision of its last acknowledged write with that write's number, or
// at a later revision with a later number (a write committed but killed
// before its answer left); and every document's revision and the store's
// cursor must be at least what the previous cycle saw.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	var cfg Config
	flag.StringVar(&cfg.Bin, "bin", "", "the pinion binary to crash (required)")
	flag.StringVar(&cfg.Data, "data", "", "data directory (default: a new temporary directory, removed at the end)")
	flag.IntVar(&cfg.Cycles, "cycles", 100, "kill -9 and restart cycles")
	flag.IntVar(&cfg.Writers, "writers", 16, "concurrent writers, one document each")
	flag.DurationVar(&cfg.MinRun, "min-run", 50*time.Millisecond, "shortest time the writers run before the kill")
	flag.DurationVar(&cfg.MaxRun, "max-run", 600*time.Millisecond, "longest time the writers run before the kill")
	flag.Int64Var(&cfg.Seed, "seed", time.Now().UnixNano(), "seed of the kill moments")
	flag.Parse()
	if cfg.Bin == "" {
		fmt.Fprintln(os.Stderr, "crash: -bin is required (go build -o /tmp/pinion ./cmd/pinion)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := Run(ctx, cfg, os.Stdout)
	fmt.Println(res)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash:", err)
		os.Exit(1)
	}
}
