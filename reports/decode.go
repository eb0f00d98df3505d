package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mailcheck/mailcheck/conformance/verdict"
	"github.com/mailcheck/mailcheck/load/summary"
)

// File is one input of a report, decoded: a conformance report, a load
// result or an HdrHistogram interval log; exactly one of them is set.
type File struct {
	// Path names the file in labels and errors.
	Path        string
	Conformance *verdict.Report
	Load        *summary.Result
	// Intervals are an HdrHistogram interval log's, each with its
	// absolute start and end times.
	Intervals []*hdrhistogram.Histogram
}

// ReadFiles reads and decodes each file (Decode); logs says whether an
// HdrHistogram interval log is acceptable among them.
func ReadFiles(paths []string, logs bool) ([]File, error) {
	var files []File
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		f, err := Decode(path, data, logs)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// Decode tells a result file's kind from its content and decodes it: a
// JSON object is a result whose "kind" field names its model (a load
// result or a conformance report) and whose "version" this package must
// read; anything else is an HdrHistogram interval log when logs is set.
// Errors name the file, and for JSON the line and column where it went
// wrong.
func Decode(path string, data []byte, logs bool) (File, error) {
	if trimmed := bytes.TrimSpace(data); len(trimmed) == 0 || trimmed[0] != '{' {
		if !logs {
			return File{}, fmt.Errorf("%s: not a JSON result", path)
		}
		f, err := DecodeHdrLog(path, data)
		if err != nil {
			return File{}, fmt.Errorf("%s: neither a JSON result nor an HdrHistogram log: %v", path, err)
		}
		return f, nil
	}
	var head struct {
		Kind    string `json:"kind"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return File{}, JSONError(path, data, err)
	}
	f := File{Path: path}
	switch head.Kind {
	case summary.ResultKind:
		f.Load = new(summary.Result)
		return f, decodeVersion(path, data, "a load result", head.Version, summary.ResultVersion, f.Load)
	case verdict.ReportKind:
		f.Conformance = new(verdict.Report)
		return f, decodeVersion(path, data, "a conformance result", head.Version, verdict.ReportVersion, f.Conformance)
	}
	return File{}, fmt.Errorf("%s: kind %q: want %q or %q", path, head.Kind, summary.ResultKind, verdict.ReportKind)
}

// decodeVersion decodes data into model once its version is known to be
// one this package reads: a newer model may not decode into this one.
func decodeVersion(path string, data []byte, what string, version, readable int, model any) error {
	if version > readable {
		return fmt.Errorf("%s: %s of version %d; this mailcheck reads version %d", path, what, version, readable)
	}
	if err := json.Unmarshal(data, model); err != nil {
		return JSONError(path, data, err)
	}
	return nil
}

// DecodeHdrLog decodes an HdrHistogram interval log; one without
// intervals is an error.
func DecodeHdrLog(path string, data []byte) (File, error) {
	intervals, err := summary.ReadHdrLog(bytes.NewReader(data))
	if err != nil {
		return File{}, err
	}
	if len(intervals) == 0 {
		return File{}, errors.New("no HdrHistogram intervals")
	}
	return File{Path: path, Intervals: intervals}, nil
}

// ReadHdrLogFile reads and decodes an HdrHistogram interval log; errors
// name the file.
func ReadHdrLogFile(path string) (File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return File{}, err
	}
	f, err := DecodeHdrLog(path, data)
	if err != nil {
		return File{}, fmt.Errorf("%s: %v", path, err)
	}
	return f, nil
}

// JSONError names the file and the place where its JSON went wrong: the
// line (from 1) and the octets of it read by then (the decoder stops just
// after an offending octet, so that is its column from 1), and the octet
// offset; it says so plainly when the file ends in the middle of a value.
func JSONError(path string, data []byte, err error) error {
	var offset int64 = -1
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		offset = syntax.Offset
	case errors.As(err, &typ):
		offset = typ.Offset
	}
	if offset < 0 {
		return fmt.Errorf("%s: %v", path, err)
	}
	offset = min(offset, int64(len(data)))
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	if syntax != nil && syntax.Error() == "unexpected end of JSON input" {
		return fmt.Errorf("%s:%d:%d: truncated: the JSON ends after %d octets, in the middle of a value", path, line, col, len(data))
	}
	return fmt.Errorf("%s:%d:%d (octet %d): %v", path, line, col, offset, err)
}
