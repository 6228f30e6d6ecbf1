package server_test

import (
	"context"
	"log"
	"log/slog"
	"os"
	"os/signal"

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
