package protocol

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The TypeScript client checks topic names and its X-Source-Id before it
// sends them. Its two regular expressions must say exactly what the protocol
// says; this test reads them from the client's source so that a change on
// either side without the other fails here.
func TestWebClientPatternsMatchProtocol(t *testing.T) {
	cases := []struct {
		file, name, want string
	}{
		{"client.ts", "sourceIdPattern", SourceIDPattern},
		{"http.ts", "topicPattern", TopicPattern},
	}
	for _, tc := range cases {
		src, err := os.ReadFile(filepath.Join("..", "web", "client", "src", tc.file))
		if err != nil {
			t.Fatalf("read the web client: %v", err)
		}
		re := regexp.MustCompile(`(?m)^const ` + tc.name + ` = /(.*)/$`)
		m := re.FindSubmatch(src)
		if m == nil {
			t.Fatalf("web/client/src/%s: no `const %s = /…/` line", tc.file, tc.name)
		}
		// JavaScript and Go spell the same hex escapes; compare case-blind
		// only inside \xHH so that a-z versus A-Z elsewhere still counts.
		norm := regexp.MustCompile(`\\x[0-9a-fA-F]{2}`)
		got := norm.ReplaceAllStringFunc(string(m[1]), strings.ToLower)
		want := norm.ReplaceAllStringFunc(tc.want, strings.ToLower)
		if got != want {
			t.Errorf("web/client/src/%s: %s is /%s/, the protocol's is %s", tc.file, tc.name, m[1], tc.want)
		}
	}
}
