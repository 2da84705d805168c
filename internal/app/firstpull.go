package app

import "context"

// AwaitingFirstPull lists the configured platforms no pull has yet run to
// its end for: until it is empty, segments computed from the store see
// only part of some people's data, and writing them back would write
// values that are soon rewritten.
func (a *App) AwaitingFirstPull(ctx context.Context) ([]string, error) {
	var out []string
	for _, p := range a.Platforms() {
		done, err := a.Pipeline.PulledOnce(ctx, p)
		if err != nil {
			return nil, err
		}
		if !done {
			out = append(out, p)
		}
	}
	return out, nil
}
