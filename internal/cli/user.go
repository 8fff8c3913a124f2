package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"

	bolterrors "go.etcd.io/bbolt/errors"
	"golang.org/x/term"

	"github.com/clipsheet/clipsheet/internal/auth"
	"github.com/clipsheet/clipsheet/internal/model"
	"github.com/clipsheet/clipsheet/internal/store"
)

// Input is where commands read secrets from: a terminal (prompt without
// echo) or a pipe (--password-stdin).
type Input struct {
	R io.Reader
	// Fd is the terminal's file descriptor when Terminal is true.
	Fd       int
	Terminal bool
}

// StdinInput is the process's standard input.
func StdinInput() Input {
	fd := int(os.Stdin.Fd())
	return Input{R: os.Stdin, Fd: fd, Terminal: term.IsTerminal(fd)}
}

// readPassword asks twice on a terminal, or reads one line from a pipe
// when fromStdin is set. The password is never echoed or logged.
func (in Input) readPassword(fromStdin bool, stderr io.Writer) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(in.R).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password from stdin: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	if !in.Terminal {
		return "", errors.New("standard input is not a terminal: pipe the password with --password-stdin")
	}
	fmt.Fprint(stderr, "Password: ")
	a, err := term.ReadPassword(in.Fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	fmt.Fprint(stderr, "Password again: ")
	b, err := term.ReadPassword(in.Fd)
	fmt.Fprintln(stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if string(a) != string(b) {
		return "", errors.New("the passwords differ")
	}
	return string(a), nil
}

// cliActor names the operating-system user in the audit log, since the
// command line has no Clipsheet login.
func cliActor() auth.Actor {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return auth.Actor{Name: "cli:" + name}
}

// openAccounts opens the store and the account service, explaining the
// usual failure: the database is locked by a running server.
func openAccounts(e *Env) (*store.Bolt, *auth.Service, error) {
	st, err := e.OpenStore()
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, nil, fmt.Errorf("%w: the database is in use; stop clipsheet serve first or manage users in the web interface (/admin/users)", err)
	}
	if err != nil {
		return nil, nil, err
	}
	return st, auth.New(st, auth.Config{}), nil
}

// UserCmd returns the "user" command reading passwords from in.
func UserCmd(in Input) func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		return userCmd(ctx, in, args, stdout, stderr)
	}
}

const userUsage = `user add NAME --role reader|curator|admin [--password-stdin]
       clipsheet user passwd NAME [--password-stdin]
       clipsheet user role NAME ROLE
       clipsheet user disable|enable NAME
       clipsheet user remove NAME
       clipsheet user list [--json]`

func userCmd(ctx context.Context, in Input, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(stderr, "usage: clipsheet %s\n", userUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub := args[0]
	fs := newFlagSet("user "+sub, userUsage, stderr)
	env := addEnvFlags(fs)
	role := fs.String("role", "", "role of the new user: reader, curator or admin")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	asJSON := fs.Bool("json", false, "list as JSON lines")
	// Flags may come before or after the name.
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
	want := map[string]int{"add": 1, "passwd": 1, "role": 2, "disable": 1, "enable": 1, "remove": 1, "list": 0}
	n, ok := want[sub]
	if !ok {
		fmt.Fprintf(stderr, "clipsheet user: unknown subcommand %q\nusage: clipsheet %s\n", sub, userUsage)
		return 2
	}
	if len(pos) != n {
		fmt.Fprintf(stderr, "usage: clipsheet %s\n", userUsage)
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
	a := cliActor()
	switch sub {
	case "list":
		return listUsers(ctx, svc, *asJSON, stdout, stderr)
	case "add":
		r, err := model.ParseRole(*role)
		if err != nil {
			return fail(stderr, fmt.Errorf("--role: %w", err))
		}
		pw, err := in.readPassword(*fromStdin, stderr)
		if err != nil {
			return fail(stderr, err)
		}
		u, err := svc.AddUser(ctx, a, pos[0], r, pw)
		if errors.Is(err, store.ErrExists) {
			return fail(stderr, fmt.Errorf("user %s exists already (use user passwd or user role)", pos[0]))
		}
		if err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "added %s %s\n", u.Role, u.Name)
	case "passwd":
		pw, err := in.readPassword(*fromStdin, stderr)
		if err != nil {
			return fail(stderr, err)
		}
		if err := svc.SetPassword(ctx, a, pos[0], pw, ""); err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "password of %s changed; their sessions were signed out\n", pos[0])
	case "role":
		r, err := model.ParseRole(pos[1])
		if err != nil {
			return fail(stderr, err)
		}
		if err := svc.SetRole(ctx, a, pos[0], r); err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "%s is now %s\n", pos[0], r)
	case "disable", "enable":
		if err := svc.SetDisabled(ctx, a, pos[0], sub == "disable"); err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "%s %sd\n", pos[0], sub)
	case "remove":
		if err := svc.RemoveUser(ctx, a, pos[0]); err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "removed %s\n", pos[0])
	}
	return 0
}

func listUsers(ctx context.Context, svc *auth.Service, asJSON bool, stdout, stderr io.Writer) int {
	users, err := svc.Users(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		for _, u := range users {
			// Never the password hash.
			if err := enc.Encode(map[string]any{"name": u.Name, "role": u.Role, "disabled": u.Disabled,
				"created": u.Created, "last_login": model.FormatTime(u.LastLogin)}); err != nil {
				return fail(stderr, err)
			}
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSTATUS\tLAST SIGN-IN")
	for _, u := range users {
		status, last := "active", "never"
		if u.Disabled {
			status = "disabled"
		}
		if !u.LastLogin.IsZero() {
			last = u.LastLogin.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Role, status, last)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d users\n", len(users))
	return 0
}
