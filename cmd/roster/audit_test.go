package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster"
)

// exportOf writes a chained export of n events, as GET /v1/audit/export does.
func exportOf(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	prev := ""
	for i := range n {
		s := roster.SealedEvent{Pos: int64(i + 1), PrevHash: prev, ID: roster.NewID(roster.PrefixAudit),
			At: time.Date(2026, 12, 1, 9, i, 0, 0, time.UTC), Via: roster.ViaUser, Action: roster.ActionUserCreated,
			TargetType: roster.TargetUser, TargetID: "usr_x", After: json.RawMessage(`{"b": 1, "a": "x"}`)}
		hash, err := s.Hash()
		if err != nil {
			t.Fatal(err)
		}
		line, _ := json.Marshal(roster.ExportedEvent{SealedEvent: s, Hash: hash})
		buf.Write(append(line, '\n'))
		prev = hash
	}
	return buf.Bytes()
}

func verifyFile(t *testing.T, content []byte, flags ...string) (string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.ndjson")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := newRootCommand()
	cmd.SetArgs(append([]string{"audit", "verify", path}, flags...))
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// TestAuditVerifyCommand: roster audit verify checks an export offline and
// fails, saying where, once a line is edited or (with --complete) missing.
func TestAuditVerifyCommand(t *testing.T) {
	file := exportOf(t, 3)
	if out, err := verifyFile(t, file, "--complete"); err != nil || !strings.HasPrefix(out, "ok: 3 events, head ") {
		t.Fatalf("a clean export: %q, %v", out, err)
	}
	lines := strings.SplitAfter(string(file), "\n")
	edited := lines[0] + strings.Replace(lines[1], `"via":"user"`, `"via":"system"`, 1) + lines[2]
	out, err := verifyFile(t, []byte(edited))
	if !errors.Is(err, errChainBroken) || !strings.Contains(out, "broken at line 2") {
		t.Errorf("an edited export: %q, %v", out, err)
	}
	dropped := lines[0] + lines[2]
	if out, err := verifyFile(t, []byte(dropped), "--complete"); !errors.Is(err, errChainBroken) {
		t.Errorf("a line missing, --complete: %q, %v", out, err)
	}
	if out, err := verifyFile(t, []byte(dropped)); err != nil || !strings.Contains(out, "1 gaps") {
		t.Errorf("a line missing, partial: %q, %v", out, err)
	}
	if _, err := verifyFile(t, []byte("<html>oops</html>\n")); !errors.Is(err, roster.ErrNotAnExport) {
		t.Errorf("not an export: %v", err)
	}
}
