package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config names a bucket (and a prefix inside it) on an S3-compatible
// server.
type S3Config struct {
	Bucket   string
	Prefix   string // prepended to every key; "" or ending in "/"
	Endpoint string // host:port; "" is AWS S3
	Region   string // "" lets the client ask the server
	Insecure bool   // plain HTTP, for a server on a private network or in tests
	// Credentials sign the requests; nil means the standard AWS
	// environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
	// AWS_SESSION_TOKEN), so that no secret is written in a URL or a file.
	Credentials *credentials.Credentials
	// TempDir is where PutBlob spools a blob while hashing it; "" is
	// os.TempDir.
	TempDir string
}

// Validate reports what is missing or malformed in c.
func (c S3Config) Validate() error {
	if c.Bucket == "" {
		return errors.New("storage: s3 needs a bucket")
	}
	if c.Prefix != "" {
		if !strings.HasSuffix(c.Prefix, "/") {
			return fmt.Errorf("storage: s3 prefix %q must end with a slash", c.Prefix)
		}
		if err := CheckKey(strings.TrimSuffix(c.Prefix, "/")); err != nil {
			return fmt.Errorf("storage: s3 prefix: %w", err)
		}
	}
	if strings.ContainsAny(c.Endpoint, "/@?#") {
		return fmt.Errorf("storage: s3 endpoint %q must be host or host:port", c.Endpoint)
	}
	return nil
}

// String is the store's URL, which holds no credential.
func (c S3Config) String() string {
	q := url.Values{}
	if c.Endpoint != "" {
		q.Set("endpoint", c.Endpoint)
	}
	if c.Region != "" {
		q.Set("region", c.Region)
	}
	if c.Insecure {
		q.Set("insecure", "1")
	}
	s := "s3://" + c.Bucket
	if c.Prefix != "" {
		s += "/" + (&url.URL{Path: c.Prefix}).EscapedPath()
	}
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// S3Store is a Store in an S3 bucket. S3 replaces an object in one step
// (a reader gets the old object or the whole new one), which is what
// makes Put and WritePointer atomic here.
type S3Store struct {
	cfg    S3Config
	client *minio.Client
}

// putPartSize bounds the memory of an upload of unknown length, which
// minio-go buffers one part at a time.
const putPartSize = 16 << 20

// NewS3 makes the client for cfg. It does not contact the server.
func NewS3(cfg S3Config) (*S3Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
	}
	creds := cfg.Credentials
	if creds == nil {
		creds = credentials.NewEnvAWS()
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:  creds,
		Secure: !cfg.Insecure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: s3 client for %s: %w", cfg, err)
	}
	return &S3Store{cfg: cfg, client: client}, nil
}

// String is the store's URL, without credentials.
func (s *S3Store) String() string { return s.cfg.String() }

// Close does nothing: the client holds only idle connections.
func (s *S3Store) Close() error { return nil }

// Client is the minio client, for what the Store does not cover (such as
// creating the bucket in a test).
func (s *S3Store) Client() *minio.Client { return s.client }

// Bucket is the bucket the store writes in.
func (s *S3Store) Bucket() string { return s.cfg.Bucket }

// EnsureBucket creates the store's bucket unless it exists (for tests and
// first setups: bic itself never creates buckets).
func (s *S3Store) EnsureBucket(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return s.errorf("check bucket", s.cfg.Bucket, err)
	}
	if ok {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.cfg.Bucket, minio.MakeBucketOptions{Region: s.cfg.Region})
	if code := minio.ToErrorResponse(err).Code; err != nil && code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
		return s.errorf("create bucket", s.cfg.Bucket, err)
	}
	return nil
}

func (s *S3Store) errorf(op, key string, err error) error {
	return fmt.Errorf("storage: %s %q in %s: %w", op, key, s, err)
}

// s3NotFound reports whether err says that an object does not exist.
// A missing bucket is not "not found": it is a broken configuration.
func s3NotFound(err error) bool {
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case minio.NoSuchKey, "NotFound":
		return true
	case minio.NoSuchBucket:
		return false
	}
	return resp.StatusCode == http.StatusNotFound
}

// Put uploads r under key.
func (s *S3Store) Put(ctx context.Context, key string, r io.Reader) error {
	if err := CheckKey(key); err != nil {
		return s.errorf("put", key, err)
	}
	if _, err := s.client.PutObject(ctx, s.cfg.Bucket, s.cfg.Prefix+key, r, -1,
		minio.PutObjectOptions{PartSize: putPartSize}); err != nil {
		return s.errorf("put", key, err)
	}
	return nil
}

// WritePointer uploads value under key in one PUT.
func (s *S3Store) WritePointer(ctx context.Context, key string, value []byte) error {
	if err := CheckKey(key); err != nil {
		return s.errorf("write pointer", key, err)
	}
	if _, err := s.client.PutObject(ctx, s.cfg.Bucket, s.cfg.Prefix+key, bytes.NewReader(value), int64(len(value)),
		minio.PutObjectOptions{ContentType: "text/plain", CacheControl: "no-cache"}); err != nil {
		return s.errorf("write pointer", key, err)
	}
	return nil
}

// memBlob is the size up to which PutBlob holds a blob in memory rather
// than in a temporary file: a chart's data, a thumbnail, a release.
const memBlob = 1 << 20

// PutBlob reads r while hashing it (the key is known only at the end),
// into memory up to memBlob and beyond that into a temporary file (memory
// must not grow with the blob), then uploads it with its size, unless the
// blob is already there.
func (s *S3Store) PutBlob(ctx context.Context, r io.Reader) (Blob, error) {
	hr := newHashingReader(r)
	var small bytes.Buffer
	if _, err := copyContext(ctx, &small, io.LimitReader(hr, memBlob+1)); err != nil {
		return Blob{}, s.errorf("put", "blob", err)
	}
	if small.Len() <= memBlob {
		return s.upload(ctx, hr.blob(), bytes.NewReader(small.Bytes()))
	}
	f, err := os.CreateTemp(s.cfg.TempDir, "bic-blob-*")
	if err != nil {
		return Blob{}, s.errorf("put", "blob", err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	if _, err := f.Write(small.Bytes()); err != nil {
		return Blob{}, s.errorf("put", "blob", err)
	}
	small = bytes.Buffer{}
	if _, err := copyContext(ctx, f, hr); err != nil {
		return Blob{}, s.errorf("put", "blob", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Blob{}, s.errorf("put", "blob", err)
	}
	return s.upload(ctx, hr.blob(), f)
}

// upload puts blob b, whose bytes body holds, unless it is there already.
func (s *S3Store) upload(ctx context.Context, b Blob, body io.Reader) (Blob, error) {
	if info, err := s.Stat(ctx, b.Key); err == nil && info.Size == b.Size && time.Since(info.Modified) <= RefreshAge {
		return b, nil
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return Blob{}, err
	}
	if _, err := s.client.PutObject(ctx, s.cfg.Bucket, s.cfg.Prefix+b.Key, body, b.Size,
		minio.PutObjectOptions{ContentType: "application/octet-stream", PartSize: putPartSize}); err != nil {
		return Blob{}, s.errorf("put", b.Key, err)
	}
	return b, nil
}

// Get opens key with one GET, whose body is the object as it was when
// the request was answered. (minio-go's Object would send a HEAD first and
// then a GET conditional on the HEAD's ETag, which fails rather than
// returning the new value when a pointer is overwritten in between.)
func (s *S3Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, s.errorf("get", key, err)
	}
	body, _, _, err := minio.Core{Client: s.client}.GetObject(ctx, s.cfg.Bucket, s.cfg.Prefix+key, minio.GetObjectOptions{})
	if err != nil {
		if s3NotFound(err) {
			err = fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return nil, s.errorf("get", key, err)
	}
	return body, nil
}

// Stat describes key.
func (s *S3Store) Stat(ctx context.Context, key string) (Info, error) {
	if err := CheckKey(key); err != nil {
		return Info{}, s.errorf("stat", key, err)
	}
	oi, err := s.client.StatObject(ctx, s.cfg.Bucket, s.cfg.Prefix+key, minio.StatObjectOptions{})
	if err != nil {
		if s3NotFound(err) {
			err = fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return Info{}, s.errorf("stat", key, err)
	}
	return Info{Key: key, Size: oi.Size, Modified: oi.LastModified}, nil
}

// List lists the objects under prefix.
func (s *S3Store) List(ctx context.Context, prefix string) ([]Info, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, s.errorf("list", prefix, err)
	}
	// Cancelling stops the listing goroutine when we return early.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var infos []Info
	for oi := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.cfg.Prefix + prefix, Recursive: true}) {
		if oi.Err != nil {
			return nil, s.errorf("list", prefix, oi.Err)
		}
		key := strings.TrimPrefix(oi.Key, s.cfg.Prefix)
		if strings.HasSuffix(key, "/") {
			continue // a "directory" marker some servers list
		}
		infos = append(infos, Info{Key: key, Size: oi.Size, Modified: oi.LastModified})
	}
	if err := ctx.Err(); err != nil {
		return nil, s.errorf("list", prefix, err)
	}
	// S3 lists in key order already; sorting keeps the promise for
	// servers that don't.
	slices.SortFunc(infos, func(a, b Info) int { return strings.Compare(a.Key, b.Key) })
	return infos, nil
}

// Delete removes key; S3 answers a delete of a missing key with success.
func (s *S3Store) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return s.errorf("delete", key, err)
	}
	if err := s.client.RemoveObject(ctx, s.cfg.Bucket, s.cfg.Prefix+key, minio.RemoveObjectOptions{}); err != nil && !s3NotFound(err) {
		return s.errorf("delete", key, err)
	}
	return nil
}
