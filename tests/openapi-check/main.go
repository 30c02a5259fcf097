// openapi-check: validates an OpenAPI 3.0 document with kin-openapi
// (Debian's golang-github-getkin-kin-openapi-dev), then lists what
// tests/openapi.sh compares with the service:
//
//	version 0.1.0
//	path /healthcheck GET HEAD
//	status 200
//
// Exit 0 when the document is valid, 1 (with the reason on stderr) if not.
// Built without modules: GO111MODULE=off GOPATH=/usr/share/gocode.
//
// Only LoadFromFile and T.Validate come from kin-openapi: their signatures
// are the same in Debian 12's 0.110 and Debian 13's, while the types of
// doc.Paths and Operation.Responses are not (maps in 0.110, structs with
// accessors later). The listing is read from the JSON itself instead,
// with encoding/json, so it does not depend on kin-openapi's version.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// The HTTP methods an OpenAPI 3.0 path item may hold, as its keys.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// listing is the part of the document that tests/openapi.sh compares.
type listing struct {
	Info struct {
		Version string `json:"version"`
	} `json:"info"`
	Paths map[string]map[string]json.RawMessage `json:"paths"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: openapi-check FILE")
		os.Exit(2)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(os.Args[1])
	if err != nil {
		fail("load: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0.") {
		fail("openapi: %q is not 3.0.x", doc.OpenAPI)
	}
	// Examples are checked against their schemas too (the default).
	if err := doc.Validate(context.Background()); err != nil {
		fail("invalid: %v", err)
	}

	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail("read: %v", err)
	}
	var l listing
	if err := json.Unmarshal(raw, &l); err != nil {
		fail("listing: %v", err)
	}
	fmt.Println("version", l.Info.Version)
	statuses := map[string]bool{}
	paths := make([]string, 0, len(l.Paths))
	for p := range l.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		var found []string
		for _, m := range methods {
			op, ok := l.Paths[p][m]
			if !ok {
				continue
			}
			found = append(found, strings.ToUpper(m))
			var o struct {
				Responses map[string]json.RawMessage `json:"responses"`
			}
			if err := json.Unmarshal(op, &o); err != nil {
				fail("paths %s %s: %v", p, m, err)
			}
			for code := range o.Responses {
				statuses[code] = true
			}
		}
		sort.Strings(found)
		fmt.Println("path", p, strings.Join(found, " "))
	}
	codes := make([]string, 0, len(statuses))
	for c := range statuses {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		fmt.Println("status", c)
	}
}
