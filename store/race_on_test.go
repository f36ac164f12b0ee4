//go:build race

package store_test

// raceDetector is on: SQLite, compiled from C to Go, runs many times slower
// under it, so the heaviest tests do less.
const raceDetector = true
