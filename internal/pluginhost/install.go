package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"github.com/segconn/connector/plugins/sdk/wire"
)

// Installed is a plugin binary copied into the plugin folder.
type Installed struct {
	Name   string // the plugin's name in the config
	Path   string // where the binary now is
	SHA256 string // its hex digest, to pin in the config
	// Description is what the binary said about itself (--describe).
	Description wire.Description
}

// nameRE is what a plugin name may look like: it becomes a file name and
// a config key.
var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ErrNotAPlugin: the file did not answer --describe as a plugin does.
var ErrNotAPlugin = errors.New("not a connector plugin")

// Install copies the plugin binary src into dir as name (default: the
// adapter name the binary gives) and returns its pin. It runs src once
// with --describe, in an empty environment, to check it is a plugin and
// learn its name; nothing else runs. The copy is written beside its final
// place and renamed, so a plugin the host is running is never seen half
// written; an existing plugin of the same name is replaced.
func Install(ctx context.Context, src, dir, name string) (Installed, error) {
	if err := ctx.Err(); err != nil {
		return Installed{}, err
	}
	d, err := describeBinary(Spec{Name: name, Path: src})
	if err != nil {
		return Installed{}, fmt.Errorf("installing %s: %w (%w)", src, ErrNotAPlugin, err)
	}
	if name == "" {
		name = d.Adapter.Name
	}
	if !nameRE.MatchString(name) {
		return Installed{}, fmt.Errorf("installing %s: plugin name %q is not lower-case letters, digits, '-' and '_' (give one with --name)", src, name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Installed{}, fmt.Errorf("creating plugin folder: %w", err)
	}
	dst := filepath.Join(dir, name)
	sum, err := copyExecutable(src, dst)
	if err != nil {
		return Installed{}, fmt.Errorf("installing %s as %s: %w", src, dst, err)
	}
	abs, err := filepath.Abs(dst)
	if err != nil {
		return Installed{}, fmt.Errorf("locating %s: %w", dst, err)
	}
	return Installed{Name: name, Path: abs, SHA256: sum, Description: d}, nil
}

// copyExecutable copies src to dst through a temporary file in dst's
// folder (synced, mode 0755, then renamed) and returns the hex SHA-256 of
// what it wrote.
func copyExecutable(src, dst string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", fmt.Errorf("opening plugin: %w", err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*")
	if err != nil {
		return "", fmt.Errorf("creating temporary copy: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), in); err != nil {
		tmp.Close()
		return "", fmt.Errorf("copying plugin: %w", err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return "", fmt.Errorf("making the copy executable: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("syncing the copy: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("closing the copy: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", fmt.Errorf("moving the copy into place: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
