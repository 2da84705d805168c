package store

import "iter"

// OutboxItems yields items, in order, as a sequence for RecordPlan.
func OutboxItems(items []OutboxItem) iter.Seq2[OutboxItem, error] {
	return func(yield func(OutboxItem, error) bool) {
		for _, it := range items {
			if !yield(it, nil) {
				return
			}
		}
	}
}
