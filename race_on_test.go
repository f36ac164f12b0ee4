//go:build race

package roster_test

const raceEnabled = true
