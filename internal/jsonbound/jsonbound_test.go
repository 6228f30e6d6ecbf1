package jsonbound

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/go-json-experiment/json/jsontext"
)

// RFC 7396 Appendix A, every example.
var rfcExamples = []struct{ target, patch, want string }{
	{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
	{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
	{`{"a":"b"}`, `{"a":null}`, `{}`},
	{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
	{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
	{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
	{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
	{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
	{`["a","b"]`, `["c","d"]`, `["c","d"]`},
	{`{"a":"b"}`, `["c"]`, `["c"]`},
	{`{"a":"foo"}`, `null`, `null`},
	{`{"a":"foo"}`, `"bar"`, `"bar"`},
	{`{"e":null}`, `{"a":1}`, `{"e":null,"a":1}`},
	{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
	{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
}

func TestMergePatchRFC7396(t *testing.T) {
	for _, ex := range rfcExamples {
		got, err := MergePatch([]byte(ex.target), []byte(ex.patch))
		if err != nil {
			t.Fatalf("MergePatch(%s, %s): %v", ex.target, ex.patch, err)
		}
		if string(got) != ex.want {
			t.Errorf("MergePatch(%s, %s) = %s, want %s", ex.target, ex.patch, got, ex.want)
		}
	}
}

func TestMergePatchKeepsNumbersAndArrays(t *testing.T) {
	got, err := MergePatch([]byte(`{"n":9007199254740993,"a":[{"x":null}]}`), []byte(`{"m":1.50e3,"a":[{"y":null}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"n":9007199254740993,"a":[{"y":null}],"m":1.50e3}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// randomValue builds a random JSON value with small names so that patches
// and documents overlap.
func randomValue(r *rand.Rand, depth int) any {
	switch k := r.IntN(7); {
	case depth > 3 || k == 0:
		return r.IntN(5)
	case k == 1:
		return nil
	case k == 2:
		return []any{r.IntN(3), nil}
	case k == 3:
		return "s"
	default:
		m := map[string]any{}
		for i := r.IntN(4); i > 0; i-- {
			m[string(rune('a'+r.IntN(4)))] = randomValue(r, depth+1)
		}
		return m
	}
}

func canonical(t *testing.T, b []byte) string {
	t.Helper()
	v := jsontext.Value(bytes.Clone(b))
	if err := v.Canonicalize(); err != nil {
		t.Fatalf("canonicalize %s: %v", b, err)
	}
	return string(v)
}

// The library this package replaces is the reference for everything the
// RFC examples do not pin down.
func TestMergePatchAgreesWithEvanphx(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		doc := mustJSON(t, randomValue(r, 0))
		patch := mustJSON(t, randomValue(r, 0))
		if doc[0] != '{' || patch[0] != '{' {
			continue // evanphx refuses documents that are not objects
		}
		want, err := jsonpatch.MergePatch(doc, patch)
		if err != nil {
			t.Fatalf("#%d evanphx: %v", i, err)
		}
		got, err := MergePatch(doc, patch)
		if err != nil {
			t.Fatalf("#%d: %v", i, err)
		}
		if canonical(t, got) != canonical(t, want) {
			t.Fatalf("#%d MergePatch(%s, %s) = %s, want %s", i, doc, patch, got, want)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jsontext.NewEncoder(&b).WriteValue(jsontext.Value(fmt.Sprint(toJSON(v)))); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(b.Bytes())
}

func toJSON(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case int:
		return fmt.Sprint(v)
	case string:
		return `"` + v + `"`
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = toJSON(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case map[string]any:
		var parts []string
		for k, e := range v {
			parts = append(parts, `"`+k+`":`+toJSON(e))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	panic(v)
}

func TestMergePatchRefusesMalformedInput(t *testing.T) {
	for _, c := range [][2]string{
		{`{}`, `{"a":`},
		{`{}`, `{"a":1} x`},
		{`{}`, `{"a":1,"a":2}`},
		{`{"a":`, `{"b":1}`},
		{`{}`, "{\"a\":\"\xff\"}"},
	} {
		if _, err := MergePatch([]byte(c[0]), []byte(c[1])); !errors.Is(err, ErrSyntax) {
			t.Errorf("MergePatch(%q, %q) = %v, want ErrSyntax", c[0], c[1], err)
		}
	}
}

func TestCheck(t *testing.T) {
	lim := Limits{MaxDepth: 3, MaxMembers: 4}
	for _, c := range []struct {
		body  string
		depth bool // want a depth LimitError
		many  bool // want a member LimitError
	}{
		{body: `1`},
		{body: `{}`},
		{body: `{"a":{"b":[1]}}`},
		{body: `{"a":{"b":[[1]]}}`, depth: true},
		{body: `[[[[]]]]`, depth: true},
		{body: `{"a":1,"b":2,"c":3,"d":4}`},
		{body: `{"a":1,"b":2,"c":3,"d":4,"e":5}`, many: true},
		{body: `[1,2,3,[4]]`, many: true},
		{body: `{"a":[1,2,3]}`},
		{body: `{"a":[1,2,3,4]}`, many: true},
	} {
		err := Check([]byte(c.body), lim)
		var le *LimitError
		switch {
		case c.depth || c.many:
			if !errors.As(err, &le) || le.Depth != c.depth {
				t.Errorf("Check(%s) = %v, want a LimitError with Depth=%v", c.body, err, c.depth)
			}
		case err != nil:
			t.Errorf("Check(%s) = %v, want nil", c.body, err)
		}
	}
	for _, bad := range []string{``, ` `, `{`, `{"a" 1}`, `[1,]`, `{} {}`, `{"a":1,"a":1}`} {
		if err := Check([]byte(bad), Limits{}); !errors.Is(err, ErrSyntax) {
			t.Errorf("Check(%q) = %v, want ErrSyntax", bad, err)
		}
	}
}

// wide is a 1 MiB merge patch object with ~100,000 members; deep nests
// objects as deep as 1 MiB allows up to jsontext's own nesting limit.
func wide(size int) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; b.Len() < size-16; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":%d`, i, i%10)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func deep(levels int) []byte {
	return []byte(strings.Repeat(`{"a":`, levels) + "1" + strings.Repeat("}", levels))
}

func TestMergePatchHugeInputs(t *testing.T) {
	w := wide(1 << 20)
	got, err := MergePatch(w, w)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, w) {
		t.Error("a patch merged into itself changed it")
	}
	d := deep(9990)
	if got, err = MergePatch(d, d); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, d) {
		t.Error("a deep patch merged into itself changed it")
	}
	if err := Check(w, Defaults); err == nil {
		t.Error("the default limits accept a 100,000-member body")
	}
	if err := Check(d, Defaults); err == nil {
		t.Error("the default limits accept a 9,990-deep body")
	}
}

// The benchmarks show the cost per input byte staying flat as inputs grow
// (linear), side by side with the library this replaces.
func BenchmarkMergePatch(b *testing.B) {
	for _, size := range []int{64 << 10, 256 << 10, 1 << 20} {
		w := wide(size)
		b.Run(fmt.Sprintf("wide/%dKiB/jsonbound", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(w)))
			for b.Loop() {
				if _, err := MergePatch(w, w); err != nil {
					b.Fatal(err)
				}
			}
		})
		if size > 256<<10 {
			continue // evanphx takes tens of seconds per 1 MiB patch
		}
		b.Run(fmt.Sprintf("wide/%dKiB/evanphx", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(w)))
			for b.Loop() {
				if _, err := jsonpatch.MergePatch(w, w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, levels := range []int{1000, 3000, 9000} {
		d := deep(levels)
		b.Run(fmt.Sprintf("deep/%d/jsonbound", levels), func(b *testing.B) {
			b.SetBytes(int64(len(d)))
			for b.Loop() {
				if _, err := MergePatch(d, d); err != nil {
					b.Fatal(err)
				}
			}
		})
		if levels > 3000 {
			continue
		}
		b.Run(fmt.Sprintf("deep/%d/evanphx", levels), func(b *testing.B) {
			b.SetBytes(int64(len(d)))
			for b.Loop() {
				if _, err := jsonpatch.MergePatch(d, d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCheck(b *testing.B) {
	w := wide(1 << 20)
	b.SetBytes(int64(len(w)))
	for b.Loop() {
		_ = Check(w, Limits{})
	}
}
