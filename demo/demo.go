// Package demo defines the topics the Pinion binary ships for its demo
// application: shared application settings, per-user preferences and a
// per-user shopping cart. The doc tags of the fields become their
// descriptions in the generated OpenAPI document (package openapi), since
// Go doc comments are not available by reflection.
package demo

import (
	"context"
	"slices"

	"github.com/pinionkit/pinion/auth"
	"github.com/pinionkit/pinion/topic"
)

// Topics returns the definitions of the demo topics, ready for
// topic.NewSet.
func Topics() []*topic.Definition {
	return []*topic.Definition{
		topic.Define("app-settings", topic.Spec[AppSettings]{
			Description: "Settings of the application, shared by everyone.",
			Scope:       topic.Shared,
			Default: AppSettings{
				Theme:         "system",
				Language:      "en",
				FontSize:      14,
				Notifications: true,
			},
			Actions: map[string]topic.Action[AppSettings]{
				"toggle-theme": topic.NewAction(toggleTheme).
					Describe("Switches to the next theme: light, dark, system, then light again."),
			},
		}),
		topic.Define("user-preferences", topic.Spec[UserPreferences]{
			Description: "The caller's personal preferences.",
			Scope:       topic.PerPrincipal,
			Default: UserPreferences{
				AccentColor: "#4f46e5",
				Sidebar:     "expanded",
				Favorites:   []string{},
			},
		}),
		topic.Define("cart", topic.Spec[Cart]{
			Description: "The caller's shopping cart.",
			Scope:       topic.PerPrincipal,
			Default:     Cart{Items: []CartItem{}},
			Actions: map[string]topic.Action[Cart]{
				"add-item": topic.NewAction(addItem).
					Describe("Adds a quantity of a product; a product already in the cart gets the quantities added up."),
				"set-quantity": topic.NewAction(setQuantity).
					Describe("Sets the quantity of a product in the cart; 0 removes it."),
				"remove-item": topic.NewAction(removeItem).
					Describe("Removes a product from the cart."),
				"clear": topic.NewAction(clearCart).
					Describe("Removes every product from the cart."),
			},
		}),
	}
}

// AppSettings are the settings of the application, shared by everyone.
type AppSettings struct {
	// Theme is the colour scheme: light, dark, or system to follow the
	// operating system.
	Theme string `json:"theme" validate:"required,oneof=light dark system" doc:"The colour scheme: light, dark, or system to follow the operating system."`
	// Language is the interface language as a BCP 47 tag, such as en or
	// pt-BR.
	Language string `json:"language" validate:"required,max=35,bcp47_language_tag" doc:"The interface language as a BCP 47 tag, such as en or pt-BR."`
	// FontSize is the base font size in pixels.
	FontSize int `json:"fontSize" validate:"min=10,max=32" doc:"The base font size in pixels."`
	// Notifications turns desktop notifications on.
	Notifications bool `json:"notifications" doc:"Turns desktop notifications on."`
	// CompactMode shows denser lists with less padding.
	CompactMode bool `json:"compactMode" doc:"Shows denser lists with less padding."`
	// ReducedMotion turns off animations.
	ReducedMotion bool `json:"reducedMotion" doc:"Turns off animations."`
}

// toggleTheme switches to the next theme in the cycle light → dark →
// system → light.
func toggleTheme(_ context.Context, s *AppSettings, _ struct{}) error {
	switch s.Theme {
	case "light":
		s.Theme = "dark"
	case "dark":
		s.Theme = "system"
	default:
		s.Theme = "light"
	}
	return nil
}

// UserPreferences are one user's personal preferences.
type UserPreferences struct {
	// DisplayName is the name shown to other users; empty to show none.
	DisplayName string `json:"displayName" validate:"max=40" doc:"The name shown to other users; empty to show none."`
	// AccentColor is the highlight colour as a hex colour, such as #4f46e5.
	AccentColor string `json:"accentColor" validate:"required,max=9,hexcolor" doc:"The highlight colour as a hex colour, such as #4f46e5."`
	// Sidebar is the state of the navigation sidebar: expanded or
	// collapsed.
	Sidebar string `json:"sidebar" validate:"required,oneof=expanded collapsed" doc:"The state of the navigation sidebar."`
	// Favorites are the user's favourite pages, at most 10.
	Favorites []string `json:"favorites" validate:"max=10,dive,required,max=40" doc:"The user's favourite pages, at most 10."`
}

// Cart is one user's shopping cart.
type Cart struct {
	// Items are the lines of the cart, one per product, at most 50.
	Items []CartItem `json:"items" validate:"max=50,dive" doc:"The lines of the cart, one per product, at most 50."`
	// Coupon is a discount code; empty when none is applied.
	Coupon string `json:"coupon" validate:"omitempty,alphanum,max=16" doc:"A discount code; empty when none is applied."`
}

// CartItem is one line of a cart: a product and its quantity.
type CartItem struct {
	// SKU identifies the product.
	SKU string `json:"sku" validate:"required,max=32" doc:"Identifies the product."`
	// Name is the product's name as shown to the user.
	Name string `json:"name" validate:"required,max=80" doc:"The product's name as shown to the user."`
	// Qty is the number of units, from 1 to 99.
	Qty int `json:"qty" validate:"min=1,max=99" doc:"The number of units, from 1 to 99."`
	// PriceCents is the unit price in cents.
	PriceCents int `json:"priceCents" validate:"min=0,max=10000000" doc:"The unit price in cents."`
}

// AddItemInput is the input of the add-item action.
type AddItemInput struct {
	// SKU identifies the product.
	SKU string `json:"sku" validate:"required,max=32" doc:"Identifies the product."`
	// Name is the product's name as shown to the user.
	Name string `json:"name" validate:"required,max=80" doc:"The product's name as shown to the user."`
	// PriceCents is the unit price in cents.
	PriceCents int `json:"priceCents" validate:"min=0,max=10000000" doc:"The unit price in cents."`
	// Qty is the number of units to add, from 1 to 99.
	Qty int `json:"qty" validate:"min=1,max=99" doc:"The number of units to add, from 1 to 99."`
}

// addItem adds a product to the cart. A product already in the cart keeps
// its line: the quantities add up, and the name and price are updated to
// the ones given. Validation of the result enforces the limits of 99 units
// per line and 50 lines.
func addItem(_ context.Context, c *Cart, in AddItemInput) error {
	if i := c.find(in.SKU); i >= 0 {
		line := &c.Items[i]
		line.Qty += in.Qty
		line.Name = in.Name
		line.PriceCents = in.PriceCents
		return nil
	}
	c.Items = append(c.Items, CartItem{SKU: in.SKU, Name: in.Name, Qty: in.Qty, PriceCents: in.PriceCents})
	return nil
}

// SetQuantityInput is the input of the set-quantity action.
type SetQuantityInput struct {
	// SKU identifies a product in the cart.
	SKU string `json:"sku" validate:"required,max=32" doc:"Identifies a product in the cart."`
	// Qty is the new number of units, from 0 to 99; 0 removes the line.
	// It is a pointer so that a request without qty is refused instead of
	// being read as 0, which would remove the line.
	Qty *int `json:"qty" validate:"required,min=0,max=99" doc:"The new number of units, from 0 to 99; 0 removes the line."`
}

// setQuantity sets the quantity of a product in the cart; 0 removes it.
func setQuantity(_ context.Context, c *Cart, in SetQuantityInput) error {
	i := c.find(in.SKU)
	if i < 0 {
		return unknownSKU()
	}
	if *in.Qty == 0 {
		c.remove(i)
		return nil
	}
	c.Items[i].Qty = *in.Qty
	return nil
}

// RemoveItemInput is the input of the remove-item action.
type RemoveItemInput struct {
	// SKU identifies a product in the cart.
	SKU string `json:"sku" validate:"required,max=32" doc:"Identifies a product in the cart."`
}

// removeItem removes a product from the cart.
func removeItem(_ context.Context, c *Cart, in RemoveItemInput) error {
	i := c.find(in.SKU)
	if i < 0 {
		return unknownSKU()
	}
	c.remove(i)
	return nil
}

// clearCart removes every product from the cart.
func clearCart(_ context.Context, c *Cart, _ struct{}) error {
	c.Items = []CartItem{}
	return nil
}

// find returns the index of the line for sku, or -1.
func (c *Cart) find(sku string) int {
	for i, line := range c.Items {
		if line.SKU == sku {
			return i
		}
	}
	return -1
}

func (c *Cart) remove(i int) {
	c.Items = slices.Delete(c.Items, i, i+1)
}

func unknownSKU() error {
	return topic.Reject("sku", "exists", "", "sku does not match any item in the cart")
}

// Policies are the demo's authorisation with bearer tokens (-auth jwt):
// everyone may read app-settings, and only a caller whose roles claim
// holds admin may change it. The other topics are the caller's own.
func Policies() auth.Policies {
	return auth.Policies{
		"app-settings": {
			Write: func(id auth.Identity, _ string, _ []byte) bool { return id.HasClaim("roles", "admin") },
		},
	}
}
