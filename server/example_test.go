package server_test

import (
	"context"
	"go/format"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"testing"

	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/server"
	"github.com/pinionkit/pinion/store/sqlite"
	"github.com/pinionkit/pinion/topic"
)

// The README's kit example, kept compiling here.

type Cart struct {
	Items  []Item `json:"items" validate:"max=50,dive"`
	Coupon string `json:"coupon" validate:"omitempty,alphanum,max=16"`
}
type Item struct {
	SKU string `json:"sku" validate:"required,max=32"`
	Qty int    `json:"qty" validate:"min=1,max=99"`
}
type AddItem struct {
	SKU string `json:"sku" validate:"required,max=32"`
	Qty int    `json:"qty" validate:"min=1,max=99"`
}

func addItem(_ context.Context, c *Cart, in AddItem) error {
	c.Items = append(c.Items, Item{SKU: in.SKU, Qty: in.Qty}) // the result is validated again
	return nil
}

func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cart := topic.Define("cart", topic.Spec[Cart]{
		Scope:   topic.PerPrincipal, // every principal has its own cart
		Default: Cart{Items: []Item{}},
		Actions: map[string]topic.Action[Cart]{"add-item": topic.NewAction(addItem)},
	})
	topics, err := topic.NewSet([]*topic.Definition{cart}) // checks names, tags and the default
	if err != nil {
		log.Fatal(err)
	}
	st, err := sqlite.Open(ctx, "data")
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	srv, err := server.New(server.Config{Addr: ":8080"}, st, topics, auth.Cookie{Key: auth.NewKey()}, slog.Default())
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(srv.Run(ctx)) // listens, serves until ctx ends, then shuts down gracefully
}

// The README shows the example above as a program (func main, compact
// error checks); it must be the same code, so that the README's kit
// example is one that compiles.
func TestREADMEKitExampleCompiles(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "```go\ntype Cart struct")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("README.md has no kit example (a go block starting with type Cart struct)")
	}
	_, compiled, ok := strings.Cut(string(self), "\ntype Cart struct")
	compiled, _, _ = strings.Cut(compiled, "\n// The README shows")
	norm := func(src string) string {
		src = strings.Replace(src, "func Example() {", "func main() {", 1)
		out, err := format.Source([]byte("package p\n\ntype Cart struct" + src))
		if err != nil {
			t.Fatalf("formatting: %v\n%s", err, src)
		}
		return string(out)
	}
	got, want := strings.Split(norm(block), "\n"), strings.Split(norm(compiled), "\n")
	for i := range max(len(got), len(want)) {
		if i >= len(got) || i >= len(want) || got[i] != want[i] {
			t.Fatalf("README.md's kit example differs from Example in server/example_test.go:\nREADME:  %q\ncompiled: %q",
				strings.Join(got[min(i, len(got)):min(i+1, len(got))], ""), strings.Join(want[min(i, len(want)):min(i+1, len(want))], ""))
		}
	}
}
