// Package templates renders vulscan's HTML pages from the view models it is given: the scan form,
// the confirmation step, the result of one attempt, the audit log and error pages. It knows
// nothing of HTTP handlers, TCSS or the audit store; the web package fills the view models.
//
// Every URL a page emits is relative (prefixed with the view's Base, such as "./" or "../"),
// because Tencent's API gateway serves the function under a stage prefix (/release) that the
// function never sees.
package templates

// FieldError is one problem with one form field. Field is the field's API name, which is also
// the id of its input element, so that the error summary can link to it; a Field the form does
// not show (such as "") is listed in the summary without a link.
type FieldError struct {
	Field   string
	Message string
}

// FormValues are the form's inputs as the user typed them, so that a re-rendered form shows
// exactly what was submitted. Names follow the CreateVulScanTask API.
type FormValues struct {
	LocalImageScanType         string
	LocalImageIDs              string
	LocalClusterIDs            string
	ExcludeLocalImageIDs       string
	LocalImageContainerRunning bool
	LocalTaskID                string

	RegistryImageScanType         string
	RegistryImageIDs              string
	ExcludeRegistryImageIDs       string
	RegistryImageContainerRunning bool
	IsLatest                      bool
	RegistryTaskID                string
}

// FormView is the scan form.
type FormView struct {
	Base           string       // relative path to the site root, e.g. "./"
	Values         FormValues   // what to show in the inputs
	IdempotencyKey string       // carried in a hidden field; one per rendering of a fresh form
	Errors         []FieldError // problems, in the order of the form
	Notice         string       // a message for the whole form (e.g. an idempotency conflict)
	RecordID       int64        // the audit record of the refusal shown, 0 when none was written
}

// ErrorFor returns the message of the first error of field, or "".
func (v FormView) ErrorFor(field string) string {
	for _, e := range v.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// HasErrors reports whether the summary must be shown.
func (v FormView) HasErrors() bool { return len(v.Errors) > 0 || v.Notice != "" }

// ConfirmView is the step that asks before a broad scan is sent.
type ConfirmView struct {
	Base           string
	Values         FormValues // carried in hidden fields
	IdempotencyKey string
	Scope          []string // what will be scanned, one sentence per side
}

// Param is one normalized request parameter as shown on the result page.
type Param struct {
	Name  string
	Value string
}

// ScanView is the page of one attempt.
type ScanView struct {
	Base           string
	ID             int64
	Outcome        string // pending | rejected | failed | succeeded | unknown
	Badge          string // what succeeded or failed, in two or three words ("Scan started")
	Headline       string // the outcome in plain words
	Reason         string // why it failed or was rejected, in plain words; "" on success
	ErrorCode      string
	Time           Moment // when the attempt was opened
	ClosedTime     Moment // when the outcome was recorded; zero while pending
	Trigger        string
	Actor          string
	Access         string // how the caller was admitted (apikey, oidc, …); "" when not recorded
	Credential     string // the Tencent credential source, e.g. assumed-role:<ARN>/<session>
	Endpoint       string // the TCSS endpoint the attempt went to, as recorded; "" when not recorded
	Emulated       bool   // Endpoint is an emulator: nothing reached Tencent Cloud
	SourceIP       string
	LocalTaskID    string // "" when there is none
	RegistryTaskID string
	RequestID      string // Tencent's RequestId
	Params         []Param
	AnsweredFrom   int64       // the attempt a replay was answered from; 0 for other attempts
	Status         *StatusView // live status; nil when the attempt started no scan
	StatusError    string      // why the live status is missing
	// Live: work is going on (TCSS has not answered, or the scan runs), so the page offers
	// "Check again" and its script polls the API.
	Live bool
}

// Moment is a time shown to people: in UTC with the zone named, and machine-readable.
type Moment struct {
	Text     string // e.g. "2026-12-03 10:35:58 UTC"
	Datetime string // RFC 3339, for <time datetime>
	Note     string // how TCSS wrote it, when converted (e.g. "TCSS: 18:35:58 UTC+8")
}

// StatusView is DescribeVulScanInfo's answer, formatted, with the sides the attempt started.
type StatusView struct {
	Status        string // NOT_SCAN | SCANNING | SCANNED | CANCELED
	StatusText    string // the same in words
	Done          bool   // SCANNED or CANCELED: nothing more will change
	Progress      string // e.g. "40%"
	ProgressValue int    // 0..100, for the <progress> element
	Remaining     string // e.g. "2m30s", "" when unknown
	Started       Moment
	Ended         Moment
	Sides         []SideView
	CheckedAt     Moment
	// CombinedWith is a task of the other side that TCSS folded into the status and progress
	// ("" when none): it reads an omitted task ID as its latest task.
	CombinedWith string
	ConsoleURL   string // the TCSS console, where the task's details are
}

// SideView is one side's results: what TCSS counted for this attempt's task on that side.
type SideView struct {
	Name       string // "Local images" or "Registry images"
	TaskID     string
	Counts     []Count
	Severities []Count // vulnerabilities by severity; none for registry tasks (TCSS gives none)
}

// Count is one number TCSS reports. Field is its name in the API's status object, so that the
// page's script can update it in place.
type Count struct {
	Name  string
	Field string
	Value string
}

// AuditFilter is the audit page's filter form, as typed.
type AuditFilter struct {
	Outcome string
	Trigger string
	Actor   string
	From    string // YYYY-MM-DD
	To      string // YYYY-MM-DD, inclusive
	TaskID  string // a TCSS LocalTaskID or RegistryTaskID
}

// AuditRow is one record of the audit table.
type AuditRow struct {
	ID             int64
	AttemptID      int64  // the attempt the record belongs to (its own ID, or its PendingID)
	Time           string // UTC to the second, as the column's heading says
	Datetime       string // the same moment, machine-readable with its zone (RFC 3339)
	Trigger        string
	Actor          string
	Outcome        string
	LocalTaskID    string
	RegistryTaskID string
	Detail         string // error code and message, or the request ID
}

// ChainView is the result of verifying the hash chain.
type ChainView struct {
	OK      bool
	Records int64
	BadID   int64  // the first bad record when not OK
	Problem string // what is wrong with it
	Error   string // verification could not run
	// Anchor is the head of a good chain as ID:HASH, for `vulscan audit verify --anchor`.
	Anchor string
	// CheckedAt is when the last check ended (UTC): the chain is verified up to record Records
	// as of then; records appended since are checked in the background.
	CheckedAt string
	// Pending: no check has ended yet (the first is running).
	Pending bool
	// Checking: a check of the newest records is running now.
	Checking bool
}

// AuditView is the audit log page.
type AuditView struct {
	Base         string
	Filter       AuditFilter
	FilterErrors []FieldError
	// OutcomeChoices and TriggerChoices are the values the filters offer.
	OutcomeChoices []string
	TriggerChoices []string
	Rows           []AuditRow
	NextQuery      string // query string of the next (older) page, "" when this is the last
	FirstQuery     string // query string of the newest page with the same filters, "" on it
	ExportQuery    string // the filters alone as a query string: a download holds every page
	Chain          ChainView
	// SearchedTo is the oldest record a page filtered several ways read when it stopped at its
	// bound of records read: older records may still match (NextQuery goes on); 0 otherwise.
	SearchedTo int64
}

// Title is the page's title: a page shown again with filter problems says so first, as the
// form's does, since a screen reader reads the title before anything else.
func (v AuditView) Title() string {
	if len(v.FilterErrors) > 0 {
		return "Error: Audit log"
	}
	return "Audit log"
}

// Invalid reports whether the filter named field (a query parameter) has a problem.
func (v AuditView) Invalid(field string) bool {
	for _, e := range v.FilterErrors {
		if e.Field == field {
			return true
		}
	}
	return false
}

// ErrorView is a page for a failed request.
type ErrorView struct {
	Base     string
	Status   int
	Title    string
	Message  string
	RecordID int64 // the audit record of a refused form post, 0 when none was written
	// SignInAgain, on a failed sign-in's page, is the address that starts it again.
	SignInAgain string
}

// SchedulesView is the schedules page: every configured schedule and what it did.
type SchedulesView struct {
	Base      string
	Now       Moment
	Schedules []ScheduleView
	Setting   string // the variable that configures schedules, for the empty state
}

// ScheduleView is one schedule.
type ScheduleView struct {
	Name   string
	Cron   string
	Next   Moment   // zero when the expression is never due again
	Missed []string // plain words, newest first: "No run recorded for 2026-12-04 02:00 UTC."
	Since  Moment   // missed runs are looked for from here
	Runs   []ScheduleRun
}

// ScheduleRun is one run of a schedule's timer.
type ScheduleRun struct {
	AttemptID int64
	At        Moment
	Outcome   string // the audit outcome, for the badge's colour
	Badge     string // the outcome in words ("Scan started")
	Tasks     string // "local 36001, registry 36002", or the error code, or "—"
}

// PickerView is a search page over TCSS's inventory: one kind of asset (local images, registry
// images or clusters), filters, one page of rows with check boxes, and the scan form's other
// entries carried along, so that "Use selected" returns to the form with the IDs filled in.
type PickerView struct {
	Base    string
	Kind    string // local | registry | cluster (the path's last segment)
	Title   string // "Pick registry images"
	Noun    string // "registry images"
	Field   string // the form field the IDs fill, e.g. RegistryImageIDs
	Name    string // the filters, as typed
	Tag     string
	Repo    string
	HasTag  bool // the kind has a tag and a registry filter
	Columns []string
	Rows    []PickerRow
	// Kept are selected IDs not on this page, carried in hidden fields; State is the scan form's
	// other entries, carried the same way.
	Kept     []string
	State    []Param
	Selected int
	Page     int
	Pages    int
	Total    int64
	Error    string // TCSS could not list (shown instead of rows)
	Notice   string // a problem with the selection (more IDs ticked than a request takes)
}

// PickerRow is one asset: its ID (the check box's value), a label naming it, and the cells.
// Unusable, if set, says why the row cannot be ticked (its ID is none a scan takes).
type PickerRow struct {
	ID       string
	Label    string
	Cells    []string
	Checked  bool
	Unusable string
}
