package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/user"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/web/auth"
)

func init() {
	commands["scan"] = command{
		summary: "start an audited vulnerability scan (flags named after the API fields, or --json)",
		run: func(ctx context.Context, args []string, e env) int {
			return runScan(ctx, args, e, openScanService)
		},
	}
}

// openScanService opens the scan service from the settings; nil until the wiring is built in.
var openScanService openScanFunc

// Exit codes of `vulscan scan`.
const (
	exitOK       = 0
	exitFailed   = 1 // TCSS or the audit log failed, or the outcome is not known
	exitRejected = 2 // the input was refused; nothing was started
)

// scanInvocation is what the command line asks for.
type scanInvocation struct {
	req   scan.Request
	key   string // idempotency key
	actor string
	dsn   string // "" means VULSCAN_AUDIT_DSN
}

// currentUser is the OS user lookup; a variable so that tests can make it fail.
var currentUser = user.Current

// scanOutput is what `vulscan scan` prints: the attempt as the audit log has it, or the problems.
type scanOutput struct {
	AttemptID      int64             `json:"attempt_id,omitempty"`
	Outcome        audit.Outcome     `json:"outcome,omitempty"`
	Replayed       bool              `json:"replayed,omitempty"`
	LocalTaskID    *int64            `json:"LocalTaskID,omitempty"`
	RegistryTaskID *int64            `json:"RegistryTaskID,omitempty"`
	RequestID      string            `json:"RequestId,omitempty"`
	Request        *scan.Request     `json:"request,omitempty"`
	Error          *outputError      `json:"error,omitempty"`
	Errors         []scan.FieldError `json:"errors,omitempty"`
}

type outputError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// scanStarter is the part of scan.Service the command needs.
type scanStarter interface {
	Start(ctx context.Context, req scan.Request, key string, c scan.Caller) (scan.Attempt, error)
}

// openScanFunc opens the service `vulscan scan` talks to, with the audit store dsn ("" for
// VULSCAN_AUDIT_DSN), and returns it with the function that releases it.
type openScanFunc func(ctx context.Context, e env, dsn string) (scanStarter, func() error, error)

// runScan parses the command line, opens the service with open and starts the scan.
func runScan(ctx context.Context, args []string, e env, open openScanFunc) int {
	inv, err := parseScanArgs(args, e)
	if errors.Is(err, flag.ErrHelp) {
		scanUsage(e.stdout)
		return exitOK
	}
	if err != nil {
		return report(e, recordRefusal(ctx, e, open, inv, err), err)
	}
	if open == nil {
		return report(e, scanOutput{}, &scan.Error{Code: scan.EINTERNAL, Op: "vulscan scan",
			Message: "the scan service is not part of this build"})
	}
	svc, closeFn, err := open(ctx, e, inv.dsn)
	if err != nil {
		return report(e, scanOutput{}, &scan.Error{Code: scan.EUNAVAILABLE, Op: "vulscan scan",
			Message: "no scan was started: " + err.Error(), Err: err})
	}
	defer func() {
		if err := closeFn(); err != nil {
			fmt.Fprintf(e.stderr, "vulscan scan: closing: %v\n", err)
		}
	}()
	// The command's context ends at SIGINT or SIGTERM (processContext): that ends a TCSS call
	// under way too, recorded as unknown, rather than leave the operator's Ctrl-C unheeded until
	// the call's own timeout. (The service does not let a caller's cancellation end its call: for
	// a server that is a client going away, not the process being told to stop.)
	ctx = scan.WithCallLifetime(ctx, ctx)
	attempt, err := svc.Start(ctx, inv.req, inv.key, scan.Caller{Trigger: audit.TriggerCLI, Actor: inv.actor, Access: "cli"})
	return report(e, attemptOutput(attempt), withStoreCause(attempt, err))
}

// refusalRecorder is the part of scan.Service that records a request refused before it became
// a scan request.
type refusalRecorder interface {
	Reject(ctx context.Context, key string, c scan.Caller, cause error) (scan.Attempt, error)
}

// recordRefusal records a request refused on the command line (a value that is no ID, JSON that
// does not decode) in the audit log, as the form and the API record theirs, and returns the
// refusal's attempt for the output. A store that cannot be opened leaves it unrecorded, said on
// stderr; nothing was started either way.
func recordRefusal(ctx context.Context, e env, open openScanFunc, inv scanInvocation, cause error) scanOutput {
	if open == nil || scan.ErrorCode(cause) != scan.EINVALID {
		return scanOutput{}
	}
	svc, closeFn, err := open(ctx, e, inv.dsn)
	if err != nil {
		fmt.Fprintf(e.stderr, "vulscan scan: the refusal is not recorded: %v\n", err)
		return scanOutput{}
	}
	defer func() {
		if err := closeFn(); err != nil {
			fmt.Fprintf(e.stderr, "vulscan scan: closing: %v\n", err)
		}
	}()
	r, ok := svc.(refusalRecorder)
	if !ok {
		return scanOutput{}
	}
	a, err := r.Reject(ctx, inv.key, scan.Caller{Trigger: audit.TriggerCLI, Actor: inv.actor, Access: "cli"}, cause)
	if err != nil && !errors.Is(err, cause) {
		fmt.Fprintf(e.stderr, "vulscan scan: the refusal is not recorded: %v\n", err)
	}
	return attemptOutput(a)
}

// withStoreCause adds the store's own words to the refusal of an attempt that the audit log
// could not record (nothing was started): the command makes no writability probe of its own, so
// its pending append is where a read-only or unreachable store shows, and the one line the
// operator reads must name the cause.
func withStoreCause(a scan.Attempt, err error) error {
	var se *scan.Error
	if a.ID() != 0 || !errors.As(err, &se) || se.Code != scan.EUNAVAILABLE || se.Err == nil {
		return err
	}
	named := *se
	named.Message = fmt.Sprintf("%s Cause: %v", se.Message, se.Err)
	return &named
}

// attemptOutput describes an attempt as the audit log records it.
func attemptOutput(a scan.Attempt) scanOutput {
	out := scanOutput{AttemptID: a.ID(), Replayed: a.Replayed}
	if !reflect.DeepEqual(a.Request, scan.Request{}) {
		out.Request = &a.Request
	}
	if a.ID() != 0 {
		out.Outcome = a.State()
	}
	if c := a.Closing(); c.Outcome == audit.OutcomeSucceeded {
		out.LocalTaskID, out.RegistryTaskID = &c.LocalTaskID, &c.RegistryTaskID
		out.RequestID = c.TCSSRequestID
	} else if c.TCSSRequestID != "" {
		out.RequestID = c.TCSSRequestID
	}
	return out
}

// report prints out (with err's code, message and field errors) as JSON on stdout, says what
// went wrong on stderr, and returns the exit code.
func report(e env, out scanOutput, err error) int {
	code := exitOK
	if err != nil {
		code = exitFailed
		var se *scan.Error
		if errors.As(err, &se) {
			out.Error = &outputError{Code: se.Code, Message: se.Message}
			out.Errors = se.Fields
			if se.Code == scan.EINVALID || se.Code == scan.ECONFLICT {
				code = exitRejected
			}
		} else {
			out.Error = &outputError{Code: scan.EINTERNAL, Message: err.Error()}
		}
		fmt.Fprintf(e.stderr, "vulscan scan: %s\n", out.Error.Message)
		for _, f := range out.Errors {
			fmt.Fprintf(e.stderr, "  %s\n", f)
		}
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if werr := enc.Encode(out); werr != nil {
		fmt.Fprintf(e.stderr, "vulscan scan: writing the result: %v\n", werr)
		return exitFailed
	}
	return code
}

// parseScanArgs turns the command line into an invocation. Every bad flag is reported at once
// as an EINVALID *scan.Error whose field errors name the API field (Field "" for problems with
// the command line as a whole). It returns flag.ErrHelp for -h/--help.
func parseScanArgs(args []string, e env) (scanInvocation, error) {
	var (
		inv      scanInvocation
		p        = &flagProblems{given: map[string]bool{}, raw: map[string][]string{}}
		jsonText string
		asked    json.RawMessage // what the refusal's record says was asked, when it is JSON's
	)
	fs := flag.NewFlagSet("vulscan scan", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	r := &inv.req
	p.text(fs, "LocalImageScanType", &r.LocalImageScanType)
	p.text(fs, "RegistryImageScanType", &r.RegistryImageScanType)
	p.texts(fs, "LocalImageIDs", &r.LocalImageIDs)
	p.texts(fs, "ExcludeLocalImageIDs", &r.ExcludeLocalImageIDs)
	p.texts(fs, "LocalClusterIDs", &r.LocalClusterIDs)
	p.numbers(fs, "RegistryImageIDs", &r.RegistryImageIDs)
	p.numbers(fs, "ExcludeRegistryImageIDs", &r.ExcludeRegistryImageIDs)
	p.taskID(fs, "LocalTaskID", &r.LocalTaskID)
	p.taskID(fs, "RegistryTaskID", &r.RegistryTaskID)
	p.boolean(fs, "LocalImageContainerRunning", &r.LocalImageContainerRunning)
	p.boolean(fs, "RegistryImageContainerRunning", &r.RegistryImageContainerRunning)
	p.boolean(fs, "IsLatest", &r.IsLatest)
	fs.StringVar(&jsonText, "json", "", "the request as a JSON object, or - to read it from stdin")
	fs.StringVar(&inv.key, "idempotency-key", "", "idempotency key: the same key and request start at most one scan")
	fs.StringVar(&inv.actor, "actor", "", "who is asking, for the audit log (default: the OS user; not system:…)")
	fs.StringVar(&inv.dsn, "dsn", "", "audit store, sqlite:PATH or postgres://… (default: VULSCAN_AUDIT_DSN, else "+defaultAuditDSN+")")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return inv, err
		}
		p.parseError(fs, err)
	} else if fs.NArg() > 0 {
		p.add("", fmt.Sprintf("unexpected argument %q: give every value with its flag, e.g. --LocalImageScanType ALL", fs.Arg(0)))
	}
	if isSet(fs, "json") {
		if len(p.given) > 0 {
			p.add("", fmt.Sprintf("--json cannot be combined with --%s: give the request either as flags or as JSON",
				strings.Join(sortedKeys(p.given), ", --")))
		} else if req, err := decodeJSONFlag(jsonText, e.stdin); err != nil {
			p.addError(err)
			var se *scan.Error
			if errors.As(err, &se) {
				asked = se.Submitted // the JSON's fields, cleaned as the API's are
			}
		} else {
			inv.req = req
			asked = scan.RequestParams(req) // as the refusal's record shows a request that decoded
		}
	}
	inv.actor = strings.TrimSpace(inv.actor) // a blank --actor ("$WHO" unset) is no name: the OS user's
	if problem := actorProblem(inv.actor); problem != "" {
		p.add("", fmt.Sprintf("--actor %q: %s; give a person's or a team's name, or leave --actor out for the OS user",
			scan.Shorten(inv.actor, 64), problem))
		inv.actor = "" // the refusal is recorded under the OS user, not under the name refused
	}
	if inv.actor == "" {
		inv.actor = defaultActor(e)
	}
	if len(p.fields) > 0 {
		// The refusal is recorded with what was asked, as the form's and the API's are.
		if len(asked) == 0 && len(p.raw) > 0 {
			asked = scan.Submitted(p.raw)
		}
		return inv, &scan.Error{Code: scan.EINVALID, Op: "vulscan scan", Message: problemCount(len(p.fields)), Fields: p.fields,
			Submitted: asked}
	}
	return inv, nil
}

// decodeJSONFlag decodes --json's value (or stdin for "-") with the one JSON decoder.
func decodeJSONFlag(text string, stdin io.Reader) (scan.Request, error) {
	data := []byte(text)
	if text == "-" {
		var err error
		if data, err = io.ReadAll(io.LimitReader(stdin, scan.MaxJSONBytes+1)); err != nil {
			return scan.Request{}, &scan.Error{Code: scan.EINVALID, Op: "vulscan scan",
				Fields: []scan.FieldError{{Message: "cannot read the request from stdin: " + err.Error()}}}
		}
	}
	return scan.DecodeJSON(data, nil)
}

// reservedActorPrefix starts the actors of the runs vulscan starts on its own: timers
// (system:timer/<schedule>) and direct invocations (system:invoke).
const reservedActorPrefix = "system:"

// callerActorPrefixes start the actors of the callers the web front end and the platform
// authenticate (web/auth, the platform's invoke:<identity>); "anonymous" is a caller nobody
// identified.
var callerActorPrefixes = []string{"apikey:", auth.ActorPrefixOIDC, auth.ActorPrefixOIDCSubject, "gateway:", "proxy:", "local:", "invoke:"}

// actorProblem says why --actor cannot name the caller, "" when it can. Idempotency keys are the
// actor's, so `--actor system:timer/nightly --idempotency-key timer/nightly@<due>` would take
// tonight's run (the timer would get the command line's attempt back and start nothing), and
// `--actor apikey:ci --idempotency-key K` the CI's retry of K; and the audit log, filtered by
// actor, would show a timer or an API key acting from a terminal.
func actorProblem(actor string) string {
	lower := strings.ToLower(actor)
	switch {
	case strings.HasPrefix(lower, reservedActorPrefix):
		return fmt.Sprintf("actors starting with %q are the runs vulscan starts on its own (system:timer/<schedule>, system:invoke); "+
			"a scan from the command line cannot be one", reservedActorPrefix)
	case lower == "anonymous":
		return "that is the actor of a caller nobody identified"
	case strings.IndexFunc(actor, audit.IsControl) >= 0:
		return "an actor is one line of text, without control characters"
	}
	for _, prefix := range callerActorPrefixes {
		if strings.HasPrefix(lower, prefix) {
			return fmt.Sprintf("actors starting with %q are callers the web front end or the platform authenticated; "+
				"a scan from the command line cannot be one", prefix)
		}
	}
	return ""
}

// defaultActor is the OS user, else $USER, else "unknown".
func defaultActor(e env) string {
	if u, err := currentUser(); err == nil && u.Username != "" {
		return u.Username
	}
	if name := strings.TrimSpace(e.getenv("USER")); name != "" {
		return name
	}
	return "unknown"
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func problemCount(n int) string {
	if n == 1 {
		return "The command line has 1 problem."
	}
	return fmt.Sprintf("The command line has %d problems.", n)
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// flagProblems collects the problems of the API-field flags, so that one run reports them all,
// and remembers which API fields were given.
type flagProblems struct {
	fields []scan.FieldError
	given  map[string]bool
	raw    map[string][]string // each API-field flag's values as typed, for the refusal's record
}

func (p *flagProblems) add(field, msg string) {
	p.fields = append(p.fields, scan.FieldError{Field: field, Message: msg})
}

func (p *flagProblems) addError(err error) {
	var se *scan.Error
	if errors.As(err, &se) && len(se.Fields) > 0 {
		p.fields = append(p.fields, se.Fields...)
		return
	}
	p.add("", err.Error())
}

// parseError turns the flag package's error (it stops at the first) into a field error.
func (p *flagProblems) parseError(fs *flag.FlagSet, err error) {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		p.add(name, "needs a value, e.g. --"+name+" "+exampleValue(name))
		return
	}
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		hint := "see vulscan scan --help for the flags"
		fs.VisitAll(func(f *flag.Flag) {
			if strings.EqualFold(f.Name, name) {
				hint = "did you mean --" + f.Name + "? Flags are named exactly as the API fields"
			}
		})
		p.add("", fmt.Sprintf("unknown flag --%s: %s", name, hint))
		return
	}
	p.add("", msg)
}

// exampleValue is a plausible value for a flag, for messages.
func exampleValue(name string) string {
	switch name {
	case "LocalImageScanType", "RegistryImageScanType":
		return "ALL"
	case "LocalImageIDs", "ExcludeLocalImageIDs":
		return "sha256:0837c4ab…"
	case "LocalClusterIDs":
		return "cls-0zmsjvko"
	case "RegistryImageIDs", "ExcludeRegistryImageIDs":
		return "12,13"
	case "json":
		return `'{"LocalImageScanType":"ALL"}'`
	}
	return "VALUE"
}

// fieldFlag is a flag named after an API field. Set never fails: a bad value becomes a field
// error, so that parsing goes on and every problem is reported at once.
type fieldFlag struct {
	p      *flagProblems
	name   string
	isBool bool
	set    func(value string) string // returns a problem, or ""
}

func (f *fieldFlag) String() string   { return "" }
func (f *fieldFlag) IsBoolFlag() bool { return f.isBool }
func (f *fieldFlag) Set(value string) error {
	f.p.given[f.name] = true
	f.p.raw[f.name] = append(f.p.raw[f.name], value)
	if problem := f.set(value); problem != "" {
		f.p.add(f.name, problem)
	}
	return nil
}

func (p *flagProblems) define(fs *flag.FlagSet, name string, isBool bool, usage string, set func(string) string) {
	fs.Var(&fieldFlag{p: p, name: name, isBool: isBool, set: set}, name, usage)
}

// text is a single string field; giving it twice is a mistake, not an override.
func (p *flagProblems) text(fs *flag.FlagSet, name string, dst *string) {
	p.define(fs, name, false, "scan type", func(v string) string {
		if *dst != "" {
			return "is given more than once: give it once"
		}
		*dst = v
		return ""
	})
}

// texts is a list of strings: comma-separated and/or repeated.
func (p *flagProblems) texts(fs *flag.FlagSet, name string, dst *[]string) {
	p.define(fs, name, false, "comma-separated list (the flag may be repeated)", func(v string) string {
		*dst = append(*dst, strings.Split(v, ",")...)
		return ""
	})
}

// numbers is a list of registry image IDs: comma-separated and/or repeated.
func (p *flagProblems) numbers(fs *flag.FlagSet, name string, dst *[]uint64) {
	p.define(fs, name, false, "comma-separated registry image IDs (the flag may be repeated)", func(v string) string {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			n, err := strconv.ParseUint(part, 10, 64)
			if err != nil {
				return fmt.Sprintf("must be a list of positive whole numbers (registry image IDs), comma-separated, e.g. 12,13; %q is not one", part)
			}
			*dst = append(*dst, n)
		}
		return ""
	})
}

func (p *flagProblems) taskID(fs *flag.FlagSet, name string, dst *int64) {
	given := false
	p.define(fs, name, false, "ID of an earlier scan task to re-run", func(v string) string {
		// One task per side: a second value is a mistake, not an override (as for scan types).
		if given {
			return "is given more than once: give it once (a request re-runs one task per side)"
		}
		given = true
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		// 0 is no task: the request would carry no task ID, so --LocalTaskID 0 beside a scan type
		// of the other side would start that scan alone instead of the re-run asked for, as the
		// form refuses it too. (Negative IDs are refused by scan's validation.)
		if err != nil || n == 0 {
			return fmt.Sprintf("must be a positive whole number (the ID of an earlier scan task); %q is not one", v)
		}
		*dst = n
		return ""
	})
}

func (p *flagProblems) boolean(fs *flag.FlagSet, name string, dst *bool) {
	p.define(fs, name, true, "filter (a switch)", func(v string) string {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Sprintf("is a switch: give --%s alone, or --%s=true or --%s=false; %q is neither", name, name, name, v)
		}
		*dst = b
		return ""
	})
}

func scanUsage(w io.Writer) {
	fmt.Fprint(w, `usage: vulscan scan [API field flags | --json '{…}'] [--idempotency-key K] [--actor NAME] [--dsn DSN]

Starts a TCSS vulnerability scan (CreateVulScanTask) through the audited path: the request is
normalized and validated, recorded in the audit log, sent to TCSS, and the outcome recorded.

API field flags (named exactly as the API's fields; lists comma-separated and/or repeated):
  --LocalImageScanType ALL|NOT_SCAN|IMAGEIDS|CLUSTER   --LocalImageIDs sha256:…,sha256:…
  --LocalClusterIDs cls-…,cls-…    --ExcludeLocalImageIDs sha256:…   --LocalImageContainerRunning
  --RegistryImageScanType ALL|NOT_SCAN|IMAGEIDS        --RegistryImageIDs 12,13
  --ExcludeRegistryImageIDs 14     --RegistryImageContainerRunning   --IsLatest
  --LocalTaskID N  --RegistryTaskID N   (re-run an earlier task)
Or the whole request as JSON: --json '{"LocalImageScanType":"ALL"}' (--json - reads stdin).

Other flags:
  --idempotency-key K   the same key with the same request starts at most one scan
  --actor NAME          who is asking, for the audit log (default: the OS user); system:… is
                        vulscan's own (timers, invocations), apikey:, oidc:, oidc-sub:,
                        gateway:, proxy:, local:, invoke: and anonymous name the web's and
                        the platform's callers: each is refused
  --dsn DSN             audit store, sqlite:PATH or postgres://… (default: VULSCAN_AUDIT_DSN,
                        else `+defaultAuditDSN+`, a file in the working directory)

Prints the attempt as JSON. Exit status: 0 started, 2 input refused, 1 TCSS or audit log failure.
`)
}
