package pluginhost

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/segconn/connector/plugins/sdk/wire"
)

// Spec declares one plugin, as written in the config.
type Spec struct {
	// Name is the plugin's name in the config, used in logs and errors.
	Name string
	// Path is the executable.
	Path string
	// SHA256 is the hex digest the executable must have. Required.
	SHA256 string
	// Args are passed to the executable.
	Args []string
	// Env is set in the plugin's environment.
	Env map[string]string
	// AllowEnv names host environment variables passed through to the
	// plugin; nothing else of the host's environment is.
	AllowEnv []string
	// CallTimeout bounds each call, and for pulls the wait for each page;
	// a plugin that overruns it is killed. Default 2 minutes.
	CallTimeout time.Duration
	// StartTimeout bounds the start and handshake. Default 30 seconds.
	StartTimeout time.Duration
}

// Options are the host-wide settings.
type Options struct {
	// Logger receives host and plugin logs; default discards.
	Logger *slog.Logger
	// SupportedVersions are the protocol versions the host speaks; default
	// wire.SupportedVersions().
	SupportedVersions []int
	// Backoff returns the policy between restarts of a crashed plugin;
	// default exponential from 100ms to 10s.
	Backoff func() backoff.BackOff
	// MaxRetries is how many times one call is retried after crashes;
	// default 3.
	MaxRetries int
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if len(o.SupportedVersions) == 0 {
		o.SupportedVersions = wire.SupportedVersions()
	}
	if o.Backoff == nil {
		o.Backoff = func() backoff.BackOff {
			b := backoff.NewExponentialBackOff()
			b.InitialInterval = 100 * time.Millisecond
			b.MaxInterval = 10 * time.Second
			b.MaxElapsedTime = 0
			return b
		}
	}
	if o.MaxRetries <= 0 {
		o.MaxRetries = 3
	}
	return o
}

func (s Spec) callTimeout() time.Duration {
	if s.CallTimeout <= 0 {
		return 2 * time.Minute
	}
	return s.CallTimeout
}

func (s Spec) startTimeout() time.Duration {
	if s.StartTimeout <= 0 {
		return 30 * time.Second
	}
	return s.StartTimeout
}

// Sentinel errors.
var (
	// ErrChecksumMismatch: the executable is not the one the config pins.
	ErrChecksumMismatch = errors.New("plugin checksum does not match the pinned sha256")
	// ErrNoChecksum: the config pins no sha256.
	ErrNoChecksum = errors.New("plugin has no sha256 pinned in the config")
	// ErrIncompatible: no protocol version is shared with the plugin.
	ErrIncompatible = errors.New("plugin speaks no protocol version this host supports")
	// ErrHung: the plugin overran its call timeout and was killed.
	ErrHung = errors.New("plugin did not answer in time and was killed")
	// ErrClosed: the plugin was closed.
	ErrClosed = errors.New("plugin is closed")
)

// FileSHA256 returns the hex SHA-256 of the file at path.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("opening plugin executable: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing plugin executable %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// pinned decodes the configured digest.
func (s Spec) pinned() ([]byte, error) {
	want := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(s.SHA256, "sha256:")))
	if want == "" {
		return nil, fmt.Errorf("plugin %q (%s): %w; add sha256: <hex> (sha256sum %s)", s.Name, s.Path, ErrNoChecksum, s.Path)
	}
	b, err := hex.DecodeString(want)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("plugin %q: sha256 %q is not 64 hex digits", s.Name, s.SHA256)
	}
	return b, nil
}

// Verify checks the executable against the pinned digest and returns the
// digest it has.
func Verify(s Spec) (string, error) {
	want, err := s.pinned()
	if err != nil {
		return "", err
	}
	got, err := FileSHA256(s.Path)
	if err != nil {
		return "", fmt.Errorf("verifying plugin %q: %w", s.Name, err)
	}
	if got != hex.EncodeToString(want) {
		return got, fmt.Errorf("refusing to start plugin %q: %s has sha256 %s but the config pins %s: %w",
			s.Name, s.Path, got, hex.EncodeToString(want), ErrChecksumMismatch)
	}
	return got, nil
}

// environ is the plugin's whole environment: the allow-listed host
// variables, then Env, sorted for a stable command line.
func (s Spec) environ() []string {
	var out []string
	for _, name := range s.AllowEnv {
		if v, ok := os.LookupEnv(name); ok {
			out = append(out, name+"="+v)
		}
	}
	keys := make([]string, 0, len(s.Env))
	for k := range s.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+s.Env[k])
	}
	return out
}
