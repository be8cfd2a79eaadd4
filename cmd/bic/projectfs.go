package main

import (
	"io/fs"
	"os"
	"syscall"
)

// projectFS is a project folder as the compiler reads it. It is an
// os.Root, so no path and no symbolic link leads out of the folder, and it
// opens files without blocking: the compiler refuses named pipes before it
// opens anything, and a pipe put in place of a file after that check reads
// as the pipe it is instead of hanging the command.
type projectFS struct{ root *os.Root }

func (p projectFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	return p.root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

func (p projectFS) Stat(name string) (fs.FileInfo, error) { return fs.Stat(p.root.FS(), name) }

func (p projectFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(p.root.FS(), name) }

func (p projectFS) ReadLink(name string) (string, error) { return fs.ReadLink(p.root.FS(), name) }

func (p projectFS) Lstat(name string) (fs.FileInfo, error) { return fs.Lstat(p.root.FS(), name) }
