//go:build !unix

package queue

// lockDir does nothing where flock is missing: keeping two embedded
// servers off one directory is then up to the user.
func lockDir(dir string) (unlock func(), err error) {
	return func() {}, nil
}
