// Package report reads the store to answer what segmentation earned: the
// lift of each segment's members over its holdout (core/lift does the
// statistics), from the membership history and the orders.
//
// It reads through narrow interfaces (the few store methods each report
// needs), so the CLI, the API and scheduled jobs share one implementation
// and tests can hand it a real store of any kind.
package report
