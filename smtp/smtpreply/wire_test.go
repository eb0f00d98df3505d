package smtpreply

import (
	"bufio"
	"errors"
	"strings"
	"testing"
)

func TestReadReply(t *testing.T) {
	tests := []struct {
		in       string
		code     int
		enhanced string
		lines    []string
		err      bool
	}{
		{"220 mx.example ESMTP\r\n", 220, "", []string{"mx.example ESMTP"}, false},
		{"250-mx.example\r\n250-PIPELINING\r\n250 SIZE 100\r\n", 250, "", []string{"mx.example", "PIPELINING", "SIZE 100"}, false},
		{"550 5.1.1 No such user\r\n", 550, "5.1.1", []string{"No such user"}, false},
		{"250\r\n", 250, "", []string{""}, false},
		{"250-a\r\n251 b\r\n", 0, "", nil, true},
		{"25x oops\r\n", 0, "", nil, true},
		{"250xtext\r\n", 0, "", nil, true},
	}
	for _, tc := range tests {
		r, err := ReadReply(bufio.NewReader(strings.NewReader(tc.in)), true, nil)
		if tc.err {
			if !errors.Is(err, ErrMalformedReply) {
				t.Errorf("%q: err %v, want ErrMalformedReply", tc.in, err)
			}
			continue
		}
		if err != nil || r.Code != tc.code || r.Enhanced != tc.enhanced || strings.Join(r.Lines, "|") != strings.Join(tc.lines, "|") {
			t.Errorf("%q: got %+v, %v", tc.in, r, err)
		}
	}
}

func TestReplyWireForm(t *testing.T) {
	r := &Reply{Code: 250, Enhanced: "2.0.0", Lines: []string{"one", "two"}}
	if got := string(r.AppendTo(nil)); got != "250-2.0.0 one\r\n250 2.0.0 two\r\n" {
		t.Errorf("got %q", got)
	}
	back, err := ReadReply(bufio.NewReader(strings.NewReader(string(r.AppendTo(nil)))), true, nil)
	if err != nil || back.String() != "250 2.0.0 one two" {
		t.Errorf("round trip: %v %v", back, err)
	}
}

func TestSplitEnhanced(t *testing.T) {
	for in, want := range map[string]string{"5.1.1 x": "5.1.1", "2.0.0": "2.0.0", "4.7.11 y": "4.7.11", "6.0.0 z": "", "mx.example": "", "5.1 x": ""} {
		got, _, _ := SplitEnhanced(in)
		if got != want {
			t.Errorf("SplitEnhanced(%q) = %q, want %q", in, got, want)
		}
	}
}
