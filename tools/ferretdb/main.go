// Command stremora-db runs the local database for Stremora: FerretDB 1.24.2 with its
// SQLite backend, embedded through its ferretdb package, behind a serializing front.
//
// Why the front: FerretDB 1.24 runs update and findAndModify as a read followed by an
// unlocked write, so concurrent clients lose $inc updates and claim the same job twice.
// The front accepts client connections on the public unix socket, gives each one its own
// connection to FerretDB's private socket, and forwards one wire-protocol request at a
// time across all of them (one lock around each request/reply round trip). That restores
// what MongoDB promises and Stremora relies on: every single-document operation is atomic.
// OP_MSG requests with the moreToCome flag get no reply and are forwarded alone.
//
// It also takes an exclusive lock on the data folder (two servers on one folder corrupt
// each other's metadata), removes a stale socket left by a killed instance, and stops
// cleanly on SIGTERM or SIGINT.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

const (
	opMsg          = 2013
	flagMoreToCome = 1 << 1
	maxMessage     = 48 << 20 // MongoDB's maxMessageSizeBytes
)

// readMessage reads one wire-protocol message (header included) from r.
func readMessage(r io.Reader) ([]byte, error) {
	var hdr [16]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.LittleEndian.Uint32(hdr[0:4]))
	if n < 16 || n > maxMessage {
		return nil, fmt.Errorf("bad message length %d", n)
	}
	msg := make([]byte, n)
	copy(msg, hdr[:])
	if _, err := io.ReadFull(r, msg[16:]); err != nil {
		return nil, err
	}
	return msg, nil
}

// expectsReply tells whether the backend answers msg: everything but an OP_MSG with
// moreToCome set.
func expectsReply(msg []byte) bool {
	if binary.LittleEndian.Uint32(msg[12:16]) != opMsg || len(msg) < 20 {
		return true
	}
	return binary.LittleEndian.Uint32(msg[16:20])&flagMoreToCome == 0
}

type front struct {
	backend string
	mu      sync.Mutex // held for each request/reply round trip
	log     *slog.Logger
}

func (f *front) serve(client net.Conn) {
	defer client.Close()
	be, err := net.Dial("unix", f.backend)
	if err != nil {
		f.log.Error("backend dial failed", "err", err)
		return
	}
	defer be.Close()
	for {
		req, err := readMessage(client)
		if err != nil {
			return // client went away or sent garbage
		}
		reply, err := f.roundTrip(be, req)
		if err != nil {
			f.log.Warn("backend round trip failed", "err", err)
			return
		}
		if reply != nil {
			if _, err := client.Write(reply); err != nil {
				return
			}
		}
	}
}

func (f *front) roundTrip(be net.Conn, req []byte) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := be.Write(req); err != nil {
		return nil, err
	}
	if !expectsReply(req) {
		return nil, nil
	}
	return readMessage(be)
}

// lockDir takes an exclusive, non-blocking lock on dir/.lock for the life of the process.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s is in use by another database process", dir)
	}
	return f, nil
}

func main() {
	dataDir := flag.String("data", "var/db", "SQLite data folder")
	sock := flag.String("socket", "var/run/db.sock", "public unix socket")
	tcp := flag.String("tcp", "", "optional loopback TCP address for tools (host:port)")
	logFile := flag.String("log", "", "log file (default stderr)")
	level := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	if err := run(*dataDir, *sock, *tcp, *logFile, *level); err != nil {
		fmt.Fprintln(os.Stderr, "stremora-db:", err)
		os.Exit(1)
	}
}

func run(dataDir, sock, tcp, logFile, level string) error {
	out := io.Writer(os.Stderr)
	if logFile != "" {
		lf, err := os.OpenFile(logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		defer lf.Close()
		out = lf
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("bad -log-level %q", level)
	}
	log := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: lv}))

	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	lock, err := lockDir(dataDir)
	if err != nil {
		return err
	}
	defer lock.Close()

	// We hold the data lock, so a socket left at these paths belongs to a dead instance.
	backend := sock + ".backend"
	for _, p := range []string{sock, backend} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	absData, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	fdb, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{Unix: backend},
		Handler:   "sqlite",
		SQLiteURL: "file:" + absData + "/",
		Logger:    log,
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := fdb.Run(ctx); err != nil {
			log.Error("ferretdb stopped", "err", err)
		}
	}()

	// FerretDB creates its socket in Run; wait for it before opening the front door.
	for i := 0; ; i++ {
		if c, err := net.Dial("unix", backend); err == nil {
			c.Close()
			break
		}
		if i == 500 {
			return errors.New("ferretdb did not start listening")
		}
		time.Sleep(10 * time.Millisecond)
	}

	f := &front{backend: backend, log: log}
	var listeners []net.Listener
	ul, err := net.Listen("unix", sock)
	if err != nil {
		return err
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		return err
	}
	listeners = append(listeners, ul)
	if tcp != "" {
		tl, err := net.Listen("tcp", tcp)
		if err != nil {
			return err
		}
		listeners = append(listeners, tl)
	}
	for _, l := range listeners {
		go func(l net.Listener) {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go f.serve(c)
			}
		}(l)
	}
	log.Info("listening", "socket", sock, "tcp", tcp)

	<-ctx.Done()
	for _, l := range listeners {
		l.Close()
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	os.Remove(sock)
	return nil
}
