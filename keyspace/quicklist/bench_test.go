package quicklist

import (
	"bytes"
	"fmt"
	"strconv"
	"testing"
)

var msg1K = bytes.Repeat([]byte("k"), 1024)

// BenchmarkQueue1K models Kombu: LPUSH a 1 KiB message, BRPOP one, at a
// steady queue depth. PopTailAppend writes into a reused reply buffer.
func BenchmarkQueue1K(b *testing.B) {
	for _, depth := range []int{0, 1, 10, 1000, 100000} {
		b.Run(fmt.Sprint("depth=", depth), func(b *testing.B) {
			l := New()
			for range depth {
				l.PushHead(msg1K)
			}
			buf := make([]byte, 0, 2048)
			b.SetBytes(1024)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				l.PushHead(msg1K)
				buf, _ = l.PopTailAppend(buf[:0])
			}
		})
	}
}

// BenchmarkQueue1KCopy is the same with PopTail returning a fresh copy.
func BenchmarkQueue1KCopy(b *testing.B) {
	l := New()
	for range 1000 {
		l.PushHead(msg1K)
	}
	b.SetBytes(1024)
	b.ReportAllocs()
	for range b.N {
		l.PushHead(msg1K)
		_, _ = l.PopTail()
	}
}

// BenchmarkPushTail1K fills lists of 100k 1 KiB messages.
func BenchmarkPushTail1K(b *testing.B) {
	b.SetBytes(1024)
	b.ReportAllocs()
	l := New()
	for i := range b.N {
		if i%100000 == 0 {
			l = New()
		}
		l.PushTail(msg1K)
	}
}

// BenchmarkPopHead1K drains lists of 100k 1 KiB messages (fill time excluded).
func BenchmarkPopHead1K(b *testing.B) {
	b.SetBytes(1024)
	b.ReportAllocs()
	l := New()
	buf := make([]byte, 0, 2048)
	for range b.N {
		if l.Len() == 0 {
			b.StopTimer()
			for range 100000 {
				l.PushTail(msg1K)
			}
			b.StartTimer()
		}
		buf, _ = l.PopHeadAppend(buf[:0])
	}
}

func BenchmarkPushPopSmall(b *testing.B) {
	v := []byte("12345")
	l := New()
	for range 1000 {
		l.PushTail(v)
	}
	b.ReportAllocs()
	for range b.N {
		l.PushTail(v)
		_, _ = l.popHeadView()
	}
}

func BenchmarkIndex(b *testing.B) {
	for _, size := range []int{10, 1024} {
		l := New()
		v := bytes.Repeat([]byte("i"), size)
		const n = 100000
		for range n {
			l.PushTail(v)
		}
		b.Run(fmt.Sprintf("size=%d/middle", size), func(b *testing.B) {
			for i := range b.N {
				_, _ = l.Index(n/2 + i%64)
			}
		})
		b.Run(fmt.Sprintf("size=%d/near-end", size), func(b *testing.B) {
			for i := range b.N {
				_, _ = l.Index(-1 - i%64)
			}
		})
	}
}

func BenchmarkRange100(b *testing.B) {
	l := New()
	for i := range 100000 {
		l.PushTail([]byte(strconv.Itoa(i)))
	}
	b.ReportAllocs()
	for range b.N {
		n := 0
		l.Range(0, 99, func(v []byte) bool { n += len(v); return true })
	}
}
