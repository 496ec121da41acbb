package tcsstest

import (
	"regexp"
	"strconv"
	"sync"
	"time"
)

// STSService and STSVersion name the STS API whose AssumeRole the emulator models
// (https://www.tencentcloud.com/document/product/598/35840, CN https://cloud.tencent.com/document/product/1312/48197).
const (
	STSService = "sts"
	STSVersion = "2018-08-13"
)

// AssumeRole's limits as Tencent documents them.
const (
	defaultRoleDuration = 7200 * time.Second
	maxRoleDuration     = 43200 * time.Second
	minSessionName      = 2
	maxSessionName      = 128
)

// The patterns compile on first use (an AssumeRole call): the ARN's large repeat count makes it
// costly, and a process that links the emulator should not pay for it at start.
var (
	// roleARNPattern is a CAM role ARN: qcs::cam::uin/<owner uin>:roleName/<name> or :role/<id>
	// (service roles add a path, e.g. role/tencentcloudServiceRole/<id>).
	roleARNPattern = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^qcs::cam::uin/([0-9]+):(roleName|role)/[\w+=,.@/-]{1,256}$`)
	})
	// sessionNamePattern is RoleSessionName's documented alphabet, [\w+=,.@-].
	sessionNamePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w+=,.@-]*$`) })
)

// issuedKey is a temporary key handed out by AssumeRole and when it stops being accepted.
type issuedKey struct {
	key     Key
	expires time.Time
}

// lookupKey finds an accepted key: a configured one (expires zero) or one AssumeRole issued,
// expired or not (checkToken refuses expired ones after the signature, as Tencent does).
func (e *Emulator) lookupKey(secretID string) (k Key, expires time.Time, ok bool) {
	if k, ok := e.keys[secretID]; ok {
		return k, time.Time{}, true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ik, ok := e.issued[secretID]
	return ik.key, ik.expires, ok
}

// Issued returns the temporary keys AssumeRole has handed out, oldest first.
func (e *Emulator) Issued() []Key {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Key(nil), e.issuance...)
}

// assumeParams are AssumeRole's inputs. Policy and ExternalId are accepted and not enforced.
type assumeParams struct {
	RoleArn         string
	RoleSessionName string
	DurationSeconds int64
	Policy          string
	ExternalId      string
}

// assumeRole answers STS AssumeRole: it checks the parameters and the role as STS does and issues
// a temporary key for the role, valid for DurationSeconds on the emulator's clock.
func (e *Emulator) assumeRole(bind binder) (map[string]any, *apiError) {
	var p assumeParams
	if aerr := bind(map[string]any{
		"RoleArn":         &p.RoleArn,
		"RoleSessionName": &p.RoleSessionName,
		"DurationSeconds": &p.DurationSeconds,
		"Policy":          &p.Policy,
		"ExternalId":      &p.ExternalId,
	}); aerr != nil {
		return nil, aerr
	}
	duration, aerr := checkAssumeParams(p)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := e.checkRole(p.RoleArn); aerr != nil {
		return nil, aerr
	}
	return e.issueKey(duration), nil
}

// issueKey hands out a temporary key valid for duration on the emulator's clock, in STS's
// answer shape.
func (e *Emulator) issueKey(duration time.Duration) map[string]any {
	issued := Key{SecretID: "AKID" + randomHex(24), SecretKey: randomHex(16), Token: randomHex(48)}
	now := e.now()
	expires := now.Add(duration).Truncate(time.Second)
	e.mu.Lock()
	for id, ik := range e.issued { // forget expired keys so that the map stays bounded
		if !now.Before(ik.expires) {
			delete(e.issued, id)
		}
	}
	e.issued[issued.SecretID] = issuedKey{key: issued, expires: expires}
	e.issuance = append(e.issuance, issued)
	e.mu.Unlock()
	return map[string]any{
		"Credentials": map[string]string{
			"Token":        issued.Token,
			"TmpSecretId":  issued.SecretID,
			"TmpSecretKey": issued.SecretKey,
		},
		"ExpiredTime": expires.Unix(),
		"Expiration":  expires.UTC().Format(time.RFC3339),
	}
}

// checkAssumeParams validates AssumeRole's parameters and returns the key's lifetime.
func checkAssumeParams(p assumeParams) (time.Duration, *apiError) {
	switch {
	case p.RoleArn == "":
		return 0, &apiError{Code: "MissingParameter", Message: "The request is missing the required parameter RoleArn."}
	case p.RoleSessionName == "":
		return 0, &apiError{Code: "MissingParameter", Message: "The request is missing the required parameter RoleSessionName."}
	case len(p.RoleSessionName) < minSessionName || len(p.RoleSessionName) > maxSessionName ||
		!sessionNamePattern().MatchString(p.RoleSessionName):
		return 0, &apiError{Code: "InvalidParameter.ParamError", Message: "RoleSessionName must be " + strconv.Itoa(minSessionName) +
			" to " + strconv.Itoa(maxSessionName) + " characters of letters, digits and =,.@_-."}
	case p.DurationSeconds < 0:
		return 0, &apiError{Code: "InvalidParameter.ParamError", Message: "DurationSeconds must be positive."}
	case time.Duration(p.DurationSeconds)*time.Second > maxRoleDuration:
		return 0, &apiError{Code: "InvalidParameter.OverTimeError", Message: "DurationSeconds exceeds the maximum of " +
			strconv.Itoa(int(maxRoleDuration.Seconds())) + "."}
	case !roleARNPattern().MatchString(p.RoleArn):
		return 0, &apiError{Code: "InvalidParameter.ParamError", Message: "RoleArn must be qcs::cam::uin/<uin>:roleName/<name> or qcs::cam::uin/<uin>:role/<id>."}
	}
	if p.DurationSeconds == 0 {
		return defaultRoleDuration, nil
	}
	return time.Duration(p.DurationSeconds) * time.Second, nil
}

// checkRole refuses a role of an account the emulator does not know (AccountNotAvaliable, as STS
// spells it) and an unknown role of a known account (RoleNotFound).
func (e *Emulator) checkRole(arn string) *apiError {
	if e.roles[arn] {
		return nil
	}
	uin := roleARNPattern().FindStringSubmatch(arn)[1]
	for known := range e.roles {
		if m := roleARNPattern().FindStringSubmatch(known); m != nil && m[1] == uin {
			return &apiError{Code: "ResourceNotFound.RoleNotFound", Message: "The role " + arn + " does not exist."}
		}
	}
	return &apiError{Code: "InvalidParameter.AccountNotAvaliable", Message: "The account " + uin + " does not exist or is not available."}
}
