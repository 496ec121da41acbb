// Package awsidentity proves an AWS Lambda function's identity to Tencent Cloud without any
// Tencent key: AWS IAM outbound identity federation (STS GetWebIdentityToken) signs a short-lived
// JWT naming the function's execution role, which Tencent CAM trusts as an OIDC identity
// provider and STS AssumeRoleWithWebIdentity exchanges for a CAM role's temporary key
// (tcss.RoleConfig.Tokens).
package awsidentity

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Settings read by FromEnv.
const (
	// EnvAudience is the token's aud, the client ID registered with the CAM OIDC provider.
	EnvAudience = "VULSCAN_AWS_WEB_IDENTITY_AUDIENCE"
	// EnvSTSEndpoint overrides AWS STS's endpoint (an http(s) URL), for emulators and VPC
	// endpoints.
	EnvSTSEndpoint = "VULSCAN_AWS_STS_ENDPOINT"
)

// tokenLifetime is asked of each token: it is used at once, for one exchange.
const tokenLifetime = 300

// Source issues web identity tokens through AWS STS with the function's own AWS credentials.
type Source struct {
	client   *sts.Client
	audience string
}

// Config configures a Source.
type Config struct {
	Audience string // required
	Region   string // AWS region of the STS endpoint; Lambda sets AWS_REGION
	Endpoint string // optional endpoint URL
	// Credentials are the AWS credentials that sign the call; nil means the Lambda execution
	// role's, read from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
	Credentials aws.CredentialsProvider
	// Getenv reads the environment for the default credentials; nil means none are found.
	Getenv func(string) string
	// HTTPClient carries the calls; nil means one with a 30 s timeout.
	HTTPClient *http.Client
}

// New returns a Source, or an error saying what is missing. It calls nothing.
func New(cfg Config) (*Source, error) {
	if strings.TrimSpace(cfg.Audience) == "" {
		return nil, fmt.Errorf("%s is not set: the audience the CAM OIDC provider expects", EnvAudience)
	}
	if cfg.Region == "" {
		return nil, errors.New("awsidentity: no AWS region (AWS_REGION) for STS")
	}
	creds := cfg.Credentials
	if creds == nil {
		creds = envCredentials(cfg.Getenv)
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	opts := sts.Options{Region: cfg.Region, Credentials: aws.NewCredentialsCache(creds), HTTPClient: httpClient}
	if cfg.Endpoint != "" {
		opts.BaseEndpoint = aws.String(cfg.Endpoint)
	}
	return &Source{client: sts.New(opts), audience: strings.TrimSpace(cfg.Audience)}, nil
}

// FromEnv builds a Source from the environment, or returns nil, nil when
// VULSCAN_AWS_WEB_IDENTITY_AUDIENCE is not set (the keyless path is off).
func FromEnv(getenv func(string) string) (*Source, error) {
	audience := strings.TrimSpace(getenv(EnvAudience))
	if audience == "" {
		return nil, nil
	}
	region := strings.TrimSpace(getenv("AWS_REGION"))
	if region == "" {
		region = strings.TrimSpace(getenv("AWS_DEFAULT_REGION"))
	}
	return New(Config{Audience: audience, Region: region, Endpoint: strings.TrimSpace(getenv(EnvSTSEndpoint)), Getenv: getenv})
}

// WebIdentityToken asks AWS STS for a fresh RS256 token for the audience.
func (s *Source) WebIdentityToken(ctx context.Context) (string, error) {
	out, err := s.client.GetWebIdentityToken(ctx, &sts.GetWebIdentityTokenInput{
		Audience:         []string{s.audience},
		SigningAlgorithm: aws.String("RS256"),
		DurationSeconds:  aws.Int32(tokenLifetime),
	})
	if err != nil {
		return "", fmt.Errorf("AWS STS GetWebIdentityToken: %w", err)
	}
	if out.WebIdentityToken == nil || *out.WebIdentityToken == "" {
		return "", errors.New("AWS STS GetWebIdentityToken answered no token")
	}
	return *out.WebIdentityToken, nil
}

// envCredentials reads Lambda's execution-role credentials from the environment on each call.
func envCredentials(getenv func(string) string) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		if getenv == nil {
			return aws.Credentials{}, errors.New("no AWS credentials")
		}
		c := aws.Credentials{
			AccessKeyID:     getenv("AWS_ACCESS_KEY_ID"),
			SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
			SessionToken:    getenv("AWS_SESSION_TOKEN"),
			Source:          "environment",
		}
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return aws.Credentials{}, errors.New("no AWS credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (the Lambda execution role's)")
		}
		return c, nil
	})
}
