package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestNoProgressWhenNotATerminal: progress is drawn on a terminal only;
// a buffer or a file (a script, a log) gets none, and a nil progress is
// safe to use.
func TestNoProgressWhenNotATerminal(t *testing.T) {
	if p := (&cli{stderr: &bytes.Buffer{}}).newProgress("pulling", "records"); p != nil {
		t.Error("progress on a buffer")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := (&cli{stderr: f}).newProgress("pulling", "records")
	if p != nil {
		t.Error("progress on a regular file")
	}
	p.add(3) // nil-safe
	if h := p.hooks(); h.OnPulled != nil || h.OnPushed != nil {
		t.Error("hooks without a terminal")
	}
	p.done()
	if st, _ := f.Stat(); st.Size() != 0 {
		t.Errorf("%d bytes written to a non-terminal", st.Size())
	}
}
