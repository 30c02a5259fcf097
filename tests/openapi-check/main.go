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
package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: openapi-check FILE")
		os.Exit(2)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0.") {
		fmt.Fprintf(os.Stderr, "openapi: %q is not 3.0.x\n", doc.OpenAPI)
		os.Exit(1)
	}
	// Examples are checked against their schemas too (the default).
	if err := doc.Validate(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "invalid:", err)
		os.Exit(1)
	}

	fmt.Println("version", doc.Info.Version)
	statuses := map[string]bool{}
	paths := make([]string, 0, len(doc.Paths))
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		ops := doc.Paths[p].Operations()
		methods := make([]string, 0, len(ops))
		for m, op := range ops {
			methods = append(methods, m)
			for code := range op.Responses {
				statuses[code] = true
			}
		}
		sort.Strings(methods)
		fmt.Println("path", p, strings.Join(methods, " "))
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
