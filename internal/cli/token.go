package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
)

const tokenUsage = `token add USER [--name NAME]   (prints the token as the last word)
       clipsheet token list [USER]
       clipsheet token revoke ID`

// Token manages API tokens.
func Token(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(stderr, "usage: clipsheet %s\n", tokenUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub := args[0]
	fs := newFlagSet("token "+sub, tokenUsage, stderr)
	env := addEnvFlags(fs)
	name := fs.String("name", "", "what the token is for, e.g. \"dispatch dashboard\"")
	var pos []string
	rest := args[1:]
	for {
		if code, done := parseFlags(fs, rest); done {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	ok := (sub == "add" && len(pos) == 1) || (sub == "list" && len(pos) <= 1) || (sub == "revoke" && len(pos) == 1)
	if !ok {
		fmt.Fprintf(stderr, "usage: clipsheet %s\n", tokenUsage)
		return 2
	}
	e, err := env.load(stderr)
	if err != nil {
		return fail(stderr, err)
	}
	st, svc, err := openAccounts(e)
	if err != nil {
		return fail(stderr, err)
	}
	defer st.Close()
	switch sub {
	case "add":
		clear, t, err := svc.AddAPIToken(ctx, cliActor(), pos[0], *name)
		if err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "token %s for %s (shown once; send as Authorization: Bearer): %s\n", t.ID, t.User, clear)
	case "list":
		owner := ""
		if len(pos) == 1 {
			owner = pos[0]
		}
		toks, err := svc.APITokens(ctx, owner)
		if err != nil {
			return fail(stderr, err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tNAME\tCREATED\tLAST USED")
		for _, t := range toks {
			last := "never"
			if !t.LastUsed.IsZero() {
				last = t.LastUsed.Local().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.User, t.Name, t.Created.Local().Format("2006-01-02 15:04"), last)
		}
		tw.Flush()
	case "revoke":
		if err := svc.RevokeAPIToken(ctx, cliActor(), "", pos[0]); err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "revoked token %s\n", pos[0])
	}
	return 0
}
