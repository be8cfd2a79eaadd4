package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

func TestServeListener(t *testing.T) {
	st := fileStore(t)
	f := publish(t, st, "prod", 1, "Sales")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- New(Options{Storage: st}).ServeListener(ctx, ln) }()
	res, err := http.Get("http://" + ln.Addr().String() + "/e/prod/d/sales")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != string(f.page) {
		t.Errorf("GET the page: %d, %d bytes", res.StatusCode, len(b))
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after the context ended: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ServeListener did not return after its context ended")
	}
}
