package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/roster-dev/roster/console"
	"github.com/roster-dev/roster/service"
)

func newLoginLinkCommand() *cobra.Command {
	var dsn, email, base string
	cmd := &cobra.Command{
		Use:   "login-link",
		Args:  cobra.NoArgs,
		Short: "Print a one-time link that signs a user in to the admin console",
		Long: "Prints, as the last line of standard output, a link to the admin console that signs in the active\n" +
			"user with this email. It works once, within 15 minutes.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return asOperator(cmd, dsn, func(system context.Context, svc *service.Service) error {
				link, secret, err := svc.CreateLoginLink(system, email)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Sign-in link for %s, valid once until %s:\n%s\n",
					email, link.ExpiresAt.UTC().Format("15:04:05 UTC"), loginURL(base, secret))
				return nil
			})
		},
	}
	databaseFlag(cmd, &dsn)
	cmd.Flags().StringVar(&email, "email", "", "the user's email (required)")
	cmd.MarkFlagRequired("email")
	cmd.Flags().StringVar(&base, "url", envOr("ROSTER_PUBLIC_URL", "http://"+envOr("ROSTER_LISTEN", defaultListen)),
		"the address browsers reach Roster on (env ROSTER_PUBLIC_URL; default: http:// and ROSTER_LISTEN)")
	return cmd
}

// loginURL is the console's sign-in page for a login link's secret.
func loginURL(base, secret string) string {
	base = strings.TrimSuffix(base, "/")
	if strings.HasPrefix(base, "http://:") { // a listen address without a host
		base = "http://localhost" + strings.TrimPrefix(base, "http://")
	}
	return base + console.Base + "login/" + secret
}
