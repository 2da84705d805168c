//go:build race

package storetest

// raceEnabled shrinks the heaviest tests under the race detector, which
// slows the pure-Go SQLite engine about twentyfold.
const raceEnabled = true
