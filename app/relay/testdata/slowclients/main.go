// Command slowclients is the slow-client generator of app/relay's
// TestSlowClientsDoNotStarveWebhooks: N connections to ADDR from A loopback
// source addresses (127.0.10.1…), half trickling headers, half chunked
// bodies to PATH (a line or a chunk every 1–3 s), each spread in time as
// independent clients would be;
// closed ones reconnect. It prints "open N" every 100 ms and stops when its
// standard input closes.
//
//	slowclients ADDR PATH N A
package main

import (
	"context"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: slowclients ADDR PATH N A")
		os.Exit(2)
	}
	addr, path := os.Args[1], os.Args[2]
	slow, _ := strconv.Atoi(os.Args[3])
	addrs, _ := strconv.Atoi(os.Args[4])
	var rl syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	rl.Cur = rl.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)

	ctx, stop := context.WithCancel(context.Background())
	go func() { io.Copy(io.Discard, os.Stdin); stop() }()
	var wg sync.WaitGroup
	var open atomic.Int64
	jitter := func(d time.Duration) time.Duration { return time.Duration(mrand.Int64N(int64(d))) }
	for i := range slow {
		src := fmt.Sprintf("127.0.10.%d", 1+i%addrs)
		bodies := i%2 == 1
		wg.Go(func() {
			time.Sleep(jitter(2 * time.Second))
			for ctx.Err() == nil {
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
				c, err := d.DialContext(ctx, "tcp", addr)
				if err != nil {
					time.Sleep(100 * time.Millisecond)
					continue
				}
				open.Add(1)
				stopc := context.AfterFunc(ctx, func() { c.Close() })
				if bodies {
					_, err = fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: relay\r\nX-Line-Signature: s\r\nTransfer-Encoding: chunked\r\n\r\n", path)
				} else {
					_, err = fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: relay\r\n", path)
				}
				for err == nil && ctx.Err() == nil {
					time.Sleep(time.Second + jitter(2*time.Second))
					if bodies {
						_, err = io.WriteString(c, "1\r\n{\r\n")
					} else {
						_, err = io.WriteString(c, "X-Slow: 1\r\n")
					}
				}
				stopc()
				c.Close()
				open.Add(-1)
				time.Sleep(jitter(500 * time.Millisecond))
			}
		})
	}
	for ctx.Err() == nil {
		fmt.Printf("open %d\n", open.Load())
		time.Sleep(100 * time.Millisecond)
	}
	wg.Wait()
}
