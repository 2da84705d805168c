package main

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/web"
)

func (a *cli) usersCommand() *cobra.Command {
	c := &cobra.Command{Use: "users", Short: "Manage who may sign in to the web app"}
	var role string
	var fromStdin bool
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Print the users: entry (with a bcrypt password hash) that lets NAME sign in",
		Long: `Add prints a users: entry for the configuration file: the name, the role
(viewer reads everything, admin also applies plans) and a bcrypt hash of
the password. Paste it under users: and restart the connector. The
password is read from the first line of standard input with
--password-stdin; otherwise a random one is made and printed once, on
standard error. Neither the password nor the hash is ever logged.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := strings.TrimSpace(args[0])
			if name == "" || strings.ContainsAny(name, " \t\n:") {
				return usageError{fmt.Errorf("user name %q: use letters, digits, dots, dashes or @", args[0])}
			}
			if role != config.RoleViewer && role != config.RoleAdmin {
				return usageError{fmt.Errorf("--role %q: want viewer or admin", role)}
			}
			var password string
			if fromStdin {
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && line == "" {
					return fmt.Errorf("reading the password from standard input: %w", err)
				}
				password = strings.TrimRight(line, "\r\n")
				if len(password) < 10 {
					return errors.New("the password must be at least 10 characters")
				}
			} else {
				b := make([]byte, 15)
				if _, err := rand.Read(b); err != nil {
					return fmt.Errorf("making a password: %w", err)
				}
				password = base64.RawURLEncoding.EncodeToString(b)
				fmt.Fprintf(a.stderr, "password for %s (shown once): %s\n", name, password)
			}
			hash, err := web.HashPassword(password)
			if err != nil {
				return fmt.Errorf("hashing the password: %w", err)
			}
			if a.output == "json" {
				return a.printJSON(map[string]string{"name": name, "role": role, "password_hash": hash})
			}
			fmt.Fprintf(a.stdout, "users:\n  - name: %q\n    role: %s\n    password_hash: %q\n", name, role, hash)
			return nil
		},
	}
	add.Flags().StringVar(&role, "role", config.RoleViewer, "viewer or admin")
	add.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from standard input instead of making one")
	c.AddCommand(add)
	return c
}
