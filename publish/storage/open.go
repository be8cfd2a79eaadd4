package storage

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// Open opens the store that rawURL names:
//
//	file://.bic/artifacts, file:///var/lib/bic    a local directory
//	s3://bucket/prefix?endpoint=host:port&region=r&insecure=1
//
// An S3 store takes its credentials from the AWS environment variables,
// never from the URL.
func Open(ctx context.Context, rawURL string) (Store, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, fmt.Errorf("storage: %q is not a URL (file://dir or s3://bucket/prefix)", redact(rawURL))
	}
	switch scheme {
	case "file":
		if rest == "" || strings.ContainsAny(rest, "?#") {
			return nil, fmt.Errorf("storage: %q: a file URL is file://dir (relative) or file:///dir", rawURL)
		}
		return NewFile(rest)
	case "s3":
		cfg, err := ParseS3URL(rawURL)
		if err != nil {
			return nil, err
		}
		return NewS3(cfg)
	}
	return nil, fmt.Errorf("storage: unknown scheme %q in %q (file or s3)", scheme, redact(rawURL))
}

// ParseS3URL reads s3://bucket/prefix?endpoint=host:port&region=r&insecure=1.
func ParseS3URL(rawURL string) (S3Config, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url's errors quote the URL, which may hold a password.
		return S3Config{}, fmt.Errorf("storage: malformed URL %q", redact(rawURL))
	}
	if u.Scheme != "s3" {
		return S3Config{}, fmt.Errorf("storage: %q is not an s3:// URL", u.Redacted())
	}
	if u.User != nil {
		return S3Config{}, fmt.Errorf("storage: %q: credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, not the URL", u.Redacted())
	}
	cfg := S3Config{Bucket: u.Host, Prefix: strings.TrimPrefix(u.Path, "/")}
	if cfg.Prefix != "" && !strings.HasSuffix(cfg.Prefix, "/") {
		cfg.Prefix += "/"
	}
	for k, vs := range u.Query() {
		v := vs[len(vs)-1]
		switch k {
		case "endpoint":
			cfg.Endpoint = v
		case "region":
			cfg.Region = v
		case "insecure":
			switch v {
			case "1", "true":
				cfg.Insecure = true
			case "0", "false", "":
			default:
				return S3Config{}, fmt.Errorf("storage: %s: insecure=%q is not 1 or 0", u.Redacted(), v)
			}
		default:
			return S3Config{}, fmt.Errorf("storage: %s: unknown parameter %q (endpoint, region, insecure)", u.Redacted(), k)
		}
	}
	if err := cfg.Validate(); err != nil {
		return S3Config{}, fmt.Errorf("%w (in %s)", err, u.Redacted())
	}
	return cfg, nil
}

// redact removes a password from a URL that may not parse.
func redact(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil {
		return u.Redacted()
	}
	if scheme, rest, ok := strings.Cut(rawURL, "://"); ok {
		if _, host, ok := strings.Cut(rest, "@"); ok {
			return scheme + "://xxxxx@" + host
		}
	}
	return rawURL
}
