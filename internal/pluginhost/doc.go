// Package pluginhost runs third-party adapter plugins (and built-in
// adapters re-executed as plugins) for the connector daemon and gives the
// rest of the host a plain adapter.Adapter for each.
//
// What it guarantees:
//   - Trust: a plugin is declared with a path and a SHA-256; the file is
//     hashed before start and a mismatch is refused with an error naming
//     both hashes (go-plugin's SecureConfig checks again at exec time). The
//     connection uses AutoMTLS. The plugin gets none of the host's
//     environment except an explicit allow-list (SkipHostEnv). The magic
//     cookie of the handshake is not security.
//   - Compatibility: protocol versions are negotiated (VersionedPlugins);
//     when nothing matches, the error names the plugin path, the versions
//     it offers (asked with its --describe flag) and those the host
//     supports.
//   - Survival: every call has a timeout (for pulls, between pages); a
//     plugin that overruns it is killed. A plugin that crashes is restarted
//     with exponential backoff (cenkalti/backoff/v4) and the call in flight
//     is retried, which is safe because every operation of the contract is
//     idempotent; a pull resumes from the cursor of the last page the host
//     accepted, so nothing is lost or delivered twice. The daemon and other
//     plugins are unaffected: each plugin is its own process and its own
//     Plugin value.
//   - Hints: a plugin of protocol 1.1 is paced, reported and measured as a
//     built-in adapter is. Plugin implements adapter.WritePacer (the
//     pacing the plugin gave after its last Configure), QuotaReporter
//     (asked live) and Observable (a WatchHTTP stream per process, reopened
//     after a restart); a 1.0 plugin gets no pacing, no quota and no
//     reports, as an adapter without those interfaces would.
//   - Distribution: Install copies a plugin binary into the plugin folder
//     and AddToConfig pins it in the config file by a textual edit of the
//     plugins: block that is checked to change nothing else.
//   - Logs: plugins write hclog-shaped JSON on stderr; go-plugin parses it
//     and this package re-emits each line into the host's slog logger at
//     the same level, tagged with the plugin's name.
//
// Why these libraries: go-plugin does process management, the handshake,
// negotiation, AutoMTLS and checksum pinning; backoff/v4 is the house
// choice for outer retry loops (restarts), with context support and
// Permanent errors; cobra because the CLI is cobra.
package pluginhost
