package platform

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/vulscan/vulscan/functions/scan"
)

// Kind names an event shape vulscan knows.
type Kind string

// The event shapes.
const (
	KindSCFAPIGateway Kind = "scf-apigw"      // Tencent API gateway trigger, integrated response (retired 2025)
	KindSCFURL        Kind = "scf-url"        // Tencent SCF function URL, to an event function
	KindAPIGatewayV1  Kind = "aws-apigw-v1"   // AWS API Gateway REST API (and HTTP API payload 1.0)
	KindAPIGatewayV2  Kind = "aws-apigw-v2"   // AWS API Gateway HTTP API, payload 2.0
	KindFunctionURL   Kind = "aws-lambda-url" // Lambda function URL (payload 2.0's shape)
	KindALB           Kind = "aws-alb"        // Application Load Balancer target
	KindSCFTimer      Kind = "scf-timer"      // Tencent SCF timer trigger
	KindEventBridge   Kind = "aws-schedule"   // EventBridge "Scheduled Event", the scan in detail
	// KindScheduleInput is a scan request as the whole payload, with no timer envelope: what a
	// direct invocation sends (and a schedule configured with a constant input). Nothing tells it
	// from anyone's invocation, so it is trigger invoke, never timer.
	KindScheduleInput Kind = "schedule-input"
)

// Field names a schedule input may carry beside the scan's own.
const (
	// FieldSchedule names the schedule; it becomes the actor system:timer/<name>. When the platform
	// names the trigger, it may only repeat that name (see scheduleName).
	FieldSchedule = "Schedule"
	// FieldConfirm, "yes", confirms a broad scan (every image) in an invocation payload, as the
	// form's confirmation step does for a person.
	FieldConfirm = "Confirm"
	// FieldScheduledTime is the run's scheduled time (e.g. EventBridge Scheduler's
	// <aws.scheduler.scheduled-time>); it makes the run's idempotency key.
	FieldScheduledTime = "ScheduledTime"
)

// event is an event's top-level members, undecoded: the shape is probed by key, exactly (unlike
// encoding/json's case-insensitive field matching).
type event map[string]json.RawMessage

// Classify says which kind of event raw is, by the keys it holds. It returns an error wrapping
// ErrUnknownEvent for anything else, including JSON that is not an object.
func Classify(raw []byte) (Kind, error) {
	var ev event
	if err := json.Unmarshal(raw, &ev); err != nil || ev == nil {
		return "", fmt.Errorf("platform: %w: not a JSON object", ErrUnknownEvent)
	}
	if k, ok := ev.classify(); ok {
		return k, nil
	}
	return "", fmt.Errorf("platform: %w: top-level keys %s", ErrUnknownEvent, ev.keys())
}

func (ev event) classify() (Kind, bool) {
	if strings.EqualFold(ev.str("Type"), "timer") && (ev.has("TriggerName") || ev.has("Time")) {
		return KindSCFTimer, true
	}
	if ev.str("source") == "aws.events" && ev.str("detail-type") == "Scheduled Event" {
		return KindEventBridge, true
	}
	rc := ev.object("requestContext")
	if ev.str("version") == "2.0" && rc.has("http") {
		if strings.Contains(rc.str("domainName"), ".lambda-url.") {
			return KindFunctionURL, true
		}
		return KindAPIGatewayV2, true
	}
	if ev.has("httpMethod") {
		switch {
		case rc.has("elb"):
			return KindALB, true
		case rc.has("serviceId"), ev.has("headerParameters"), ev.has("queryString") && ev.has("requestContext"):
			return KindSCFAPIGateway, true
		case rc.has("apiId"), ev.has("resource"), ev.has("multiValueHeaders"):
			return KindAPIGatewayV1, true
		case ev.isSCFFunctionURL():
			return KindSCFURL, true
		}
	}
	if ev.has(FieldSchedule) || slices.ContainsFunc(ev.keyList(), isRequestField) {
		return KindScheduleInput, true
	}
	return "", false
}

func (ev event) has(key string) bool {
	_, ok := ev[key]
	return ok
}

// str returns the string at key, or "" when it is absent or not a string.
func (ev event) str(key string) string {
	var s string
	if raw, ok := ev[key]; ok && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

// object returns the members of the object at key, or an empty event.
func (ev event) object(key string) event {
	var sub event
	if raw, ok := ev[key]; ok && json.Unmarshal(raw, &sub) == nil {
		return sub
	}
	return event{}
}

func (ev event) keyList() []string {
	keys := make([]string, 0, len(ev))
	for k := range ev {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// keys lists the event's keys for an error message, bounded so that a hostile event cannot flood
// the log.
func (ev event) keys() string {
	const maxKeys, maxKeyLen = 12, 40
	keys := ev.keyList()
	more := len(keys) - maxKeys
	keys = keys[:min(len(keys), maxKeys)]
	for i, k := range keys {
		if len(k) > maxKeyLen {
			keys[i] = k[:maxKeyLen] + "…"
		}
	}
	s := fmt.Sprintf("%q", keys)
	if more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	return s
}

// requestFields are the JSON names of scan.Request's fields, read from its tags so that a field
// added to the request is recognised here too. Read once, by the first event that is neither
// HTTP nor a timer: reading them at package initialisation cost every start its reflection.
var requestFields = sync.OnceValue(func() map[string]bool {
	fields := map[string]bool{}
	t := reflect.TypeFor[scan.Request]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			fields[name] = true
		}
	}
	return fields
})

func isRequestField(name string) bool { return requestFields()[name] }
