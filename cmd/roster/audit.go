package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/roster-dev/roster"
)

// errChainBroken makes the command exit non-zero after it has said why.
var errChainBroken = errors.New("the export does not verify")

func newAuditCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Work with exported audit logs"}
	var complete bool
	verify := &cobra.Command{
		Use:   "verify FILE",
		Args:  cobra.ExactArgs(1),
		Short: "Verify an audit export (GET /v1/audit/export) offline, without a database",
		Long: "Recomputes every event's hash from its content and checks it against the event before it. " +
			"A filtered export skips positions; --complete requires that none be skipped (an export without filters). " +
			"Use - for standard input.",
		RunE: func(cmd *cobra.Command, args []string) error {
			var in io.Reader = cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			v, err := roster.VerifyExport(in, complete)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if !v.OK {
				fmt.Fprintf(out, "broken at line %d, event %s: %s (%d events verified before it)\n", v.FirstBadLine, v.FirstBadID, v.Problem, v.Events)
				return errChainBroken
			}
			fmt.Fprintf(out, "ok: %d events, head %s", v.Events, v.Head)
			if v.Gaps > 0 {
				fmt.Fprintf(out, ", %d gaps (a filtered export)", v.Gaps)
			}
			fmt.Fprintln(out)
			return nil
		},
	}
	verify.Flags().BoolVar(&complete, "complete", false, "require every position from the first line on: no event may be missing")
	cmd.AddCommand(verify)
	return cmd
}
